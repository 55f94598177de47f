// Package backoff computes the jittered exponential waits of the wasm client
// cores' reconnections.
package backoff

import "time"

// Full returns a wait drawn uniformly from [floor, ceil), ceil being
// min(limit, base·2ⁿ) (base alone for n ≤ 0): "full jitter" above a floor.
// It returns floor, without calling rand, when ceil ≤ floor (in particular
// when limit ≤ floor). rand returns a uniform number in [0, 1); the
// doubling does not overflow.
func Full(floor, base, limit time.Duration, n int, rand func() float64) time.Duration {
	if limit <= floor {
		return floor
	}
	ceil := base
	for i := 0; i < n && ceil < limit; i++ {
		if ceil > limit/2 {
			ceil = limit
			break
		}
		ceil *= 2
	}
	ceil = min(ceil, limit)
	if ceil <= floor {
		return floor
	}
	return floor + time.Duration(rand()*float64(ceil-floor))
}
