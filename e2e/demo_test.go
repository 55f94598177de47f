package e2e

import "testing"

// TestDemoPage proves what `make run` shows: the demo page at / reads the
// ticker the server publishes every 250 ms with the native EventSource and
// renders the quotes of all six symbols.
func TestDemoPage(t *testing.T) {
	srv := startServer(t, serverConfig{Demo: true})
	p := newPage(t)
	p.navigate(srv.URL() + "/")
	p.waitFor("the demo page to show live quotes", `
		document.getElementById("state").textContent === "open" &&
		Number(document.getElementById("count").textContent) >= 3 &&
		document.querySelectorAll("#quotes tr").length === 6 &&
		document.getElementById("lastid").textContent.includes("-")`)
}
