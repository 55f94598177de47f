package server

import (
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/eventwire/eventwire/protocol/sse"
)

// DefaultMaxPublishBytes is PublishHandler's default body limit.
const DefaultMaxPublishBytes = 1 << 20

// PublishHandler publishes the request body as one event: POST with the
// topic from the path (r.PathValue("topic") unless Topic is set), the event
// type from the query parameter "event" (empty means "message"), and the
// body, UTF-8, as the data. It answers 200 with the assigned event ID as
// the whole text/plain body; 400 for a bad topic, event type or body, 401
// without the right token, 405 for other methods, 413 for a body over
// MaxBytes, 503 once the hub is closed.
type PublishHandler struct {
	// Hub receives the events. Required.
	Hub *Hub

	// Topic names the topic of a request. Nil means r.PathValue("topic").
	Topic func(*http.Request) string

	// Token, when not empty, must be presented as
	// "Authorization: Bearer <Token>" (compared in constant time).
	Token string

	// MaxBytes limits the body. Zero means DefaultMaxPublishBytes (1 MiB).
	MaxBytes int64

	// Logger receives handler errors. Nil means slog.Default().
	Logger *slog.Logger
}

// ServeHTTP publishes one event; see PublishHandler.
func (h *PublishHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if h.Token != "" {
		auth := r.Header.Get("Authorization")
		scheme, token, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") ||
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(h.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="eventwire publish"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	if h.Hub == nil {
		http.Error(w, "no hub", http.StatusInternalServerError)
		return
	}
	name, ok := requestTopic(w, r, h.Topic)
	if !ok {
		return
	}
	limit := h.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxPublishBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "failed to read body", http.StatusBadRequest)
		return
	}
	if !utf8.Valid(body) {
		http.Error(w, "body must be UTF-8", http.StatusBadRequest)
		return
	}
	ev, err := h.Hub.Publish(name, sse.Event{Type: r.URL.Query().Get("event"), Data: string(body)})
	switch {
	case errors.Is(err, ErrClosed):
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	case errors.Is(err, sse.ErrInvalidType):
		http.Error(w, "invalid event type", http.StatusBadRequest)
		return
	case err != nil:
		logger := h.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Error("eventwire: publish failed", "topic", name, "err", err)
		http.Error(w, "publish failed", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, ev.ID)
}
