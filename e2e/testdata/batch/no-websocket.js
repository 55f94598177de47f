// Init script: a browser without WebSocket (or one where a policy removed it).
delete globalThis.WebSocket;
