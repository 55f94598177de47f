package server

import (
	"context"
	_ "embed"
	"encoding/json"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
)

//go:embed demo/index.html
var demoPage []byte

// serveDemoPage serves the demo page: a live ticker read with the
// browser's native EventSource from /events/ticker.
func serveDemoPage(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'")
	_, _ = w.Write(demoPage)
}

// quote is one instrument's price in a demo tick.
type quote struct {
	Symbol    string  `json:"symbol"`
	Price     float64 `json:"price"`
	Change    float64 `json:"change"`    // since the previous tick
	ChangePct float64 `json:"changePct"` // since the opening price, in percent
}

// tick is the data of one demo event.
type tick struct {
	Time   time.Time `json:"time"`
	Quotes []quote   `json:"quotes"`
}

// runDemo publishes a tick of random-walk prices on topic every interval
// until ctx is done.
func runDemo(ctx context.Context, hub *Hub, topic string, interval time.Duration, log *slog.Logger) {
	symbols := []string{"GOPH", "WASM", "EVNT", "WIRE", "BYTE", "CHAN"}
	open := []float64{142.50, 87.20, 23.75, 310.00, 12.48, 64.90}
	price := append([]float64(nil), open...)
	quotes := make([]quote, len(symbols))
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for i := range price {
				prev := price[i]
				// Geometric random walk: about 0.2 % per tick, a slight
				// pull back to the opening price so it never runs away.
				step := rand.NormFloat64()*0.002 + (open[i]-prev)/open[i]*0.001
				price[i] = math.Max(0.01, prev*(1+step))
				p := round2(price[i])
				quotes[i] = quote{
					Symbol:    symbols[i],
					Price:     p,
					Change:    round2(p - round2(prev)),
					ChangePct: round2((p - open[i]) / open[i] * 100),
				}
			}
			data, err := json.Marshal(tick{Time: now.UTC().Truncate(time.Millisecond), Quotes: quotes})
			if err != nil {
				log.Error("eventwire: demo tick", "err", err)
				continue
			}
			if _, err := hub.Publish(topic, sse.Event{Data: string(data)}); err != nil {
				log.Debug("eventwire: demo publish stopped", "err", err)
				return
			}
		}
	}
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
