package e2e

import (
	"fmt"
	"net/http"
	"sort"
	"testing"
)

// specSurface is what WebIDL and the HTML spec require of the EventSource
// interface, check by check (see testdata/conformance/surface.js).
var specSurface = map[string]any{
	"typeof":                              "function",
	"name":                                "EventSource",
	"length":                              float64(1),
	"constants on the class":              "0,1,2",
	"constants on the prototype":          "0,1,2",
	"constants are read-only":             true,
	"extends EventTarget":                 true,
	"toStringTag":                         "[object EventSource]",
	"url is an accessor on the prototype": true,
	"withCredentials is an accessor on the prototype": true,
	"readyState is an accessor on the prototype":      true,
	"onopen is an accessor on the prototype":          true,
	"onmessage is an accessor on the prototype":       true,
	"onerror is an accessor on the prototype":         true,
	"close is a method on the prototype":              true,
	"call without new":                                "threw TypeError",
	"unparseable URL":                                 "threw SyntaxError",
	"getter on a foreign object":                      "threw TypeError",
	"url resolved against the base":                   true,
	"readyState at first":                             float64(0),
	"withCredentials default":                         false,
	"handlers default to null":                        "null,null,null",
	"instanceof":                                      true,
	"toString of an instance":                         "[object EventSource]",
	"own properties":                                  "",
	// EventHandler is [LegacyTreatNonObjectAsNull]: a non-object becomes
	// null, any object is kept.
	"handler set to a non-function":         "null",
	"handler set to an object":              true,
	"dispatchEvent reaches the handler":     "synthetic",
	"handler called with this = the source": true,
	"readyState after close":                float64(2),
	"close twice":                           float64(2),
	"withCredentials option":                true,
	// The second argument is a dictionary: a number is a TypeError.
	"init of a wrong type": "threw TypeError",
	// Fetching a ws: URL is a network error; the user agent knows retrying
	// is futile and fails the connection.
	"ws: URL": "error, readyState 2",
}

// TestConformanceSurface compares the interface of eventwire's EventSource
// with the browser's and with WebIDL: constructor, constants, accessors,
// brand checks, URL resolution, event handler attributes, close().
func TestConformanceSurface(t *testing.T) {
	srv := startServer(t, serverConfig{Dist: true, Extra: map[string]http.Handler{
		"/conf/": http.NotFoundHandler(),
	}})
	p := newPage(t)
	p.navigate(srv.URL() + "/e2e/conformance/surface.html")
	p.waitFor("the surface page", `globalThis.state && state.phase === "ready"`)
	native := evalJS[map[string]any](p, `surface(EventSource, location.href)`)
	if got := evalJS[string](p, `state.ewExport ?? ("missing; import error: " + state.importError)`); got != "function" {
		t.Fatalf("dist/eventwire.js exports no EventSource class: %s", got)
	}
	ew := evalJS[map[string]any](p, `surface(ew.EventSource, location.href)`)
	var names []string
	for k := range specSurface {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		want := specSurface[k]
		if n := native[k]; fmt.Sprint(n) != fmt.Sprint(want) {
			t.Errorf("native %s = %v, want %v (a deviation of Chromium? note it here)", k, n, want)
		}
		if e := ew[k]; fmt.Sprint(e) != fmt.Sprint(want) {
			t.Errorf("eventwire %s = %v, want %v (native: %v)", k, e, want, native[k])
		}
	}
	for k := range ew {
		if _, ok := specSurface[k]; !ok {
			t.Errorf("surface check %q has no expectation", k)
		}
	}
}
