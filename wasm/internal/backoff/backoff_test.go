package backoff

import (
	"math"
	"testing"
	"time"
)

func TestFull(t *testing.T) {
	const s = time.Second
	half := func() float64 { return 0.5 }
	tests := []struct {
		name                     string
		floor, base, limit, want time.Duration
		n                        int
		rand                     func() float64
	}{
		{"no doubling", 0, s, 30 * s, s / 2, 0, half},
		{"negative n", 0, s, 30 * s, s / 2, -1, half},
		{"doubled", 0, s, 30 * s, 4 * s, 3, half},
		{"capped", 0, s, 30 * s, 15 * s, 10, half},
		{"base above limit", 0, 40 * s, 30 * s, 15 * s, 0, half},
		{"floor", 3 * s, 3 * s, 30 * s, 4500 * time.Millisecond, 1, half},
		{"floor doubled", 3 * s, 3 * s, 30 * s, 7500 * time.Millisecond, 2, half},
		{"rand 0", 3 * s, 3 * s, 30 * s, 3 * s, 4, func() float64 { return 0 }},
		{"no overflow", 0, s, math.MaxInt64, time.Duration(0.5 * float64(math.MaxInt64)), 1000, half},
	}
	for _, tc := range tests {
		if got := Full(tc.floor, tc.base, tc.limit, tc.n, tc.rand); got != tc.want {
			t.Errorf("%s: Full(%v, %v, %v, %d) = %v, want %v", tc.name, tc.floor, tc.base, tc.limit, tc.n, got, tc.want)
		}
	}
	// At or below the floor, rand is not called.
	never := func() float64 { t.Fatal("rand called"); return 0 }
	if got := Full(3*s, 3*s, 2*s, 5, never); got != 3*s {
		t.Errorf("limit below floor: %v", got)
	}
	if got := Full(3*s, s, 30*s, 0, never); got != 3*s {
		t.Errorf("ceil at floor: %v", got)
	}
}
