// Package detmath computes the elementary functions the fits need (Exp,
// Expm1, Log, Log1p) with the same bits on every architecture.
//
// The standard library's math "does not guarantee bit-identical results
// across architectures" (math/const.go): Exp is assembly on amd64 (with a
// separate path for CPUs with FMA) and on arm64, and Log, Log1p and Expm1
// are Go code that the arm64 compiler fuses into multiply-adds. A fit
// sums thousands of logarithms and its optimizer follows their last bits,
// so a seeded bootstrap's intervals moved between amd64 and arm64. Here
// the arithmetic is plain Go with every product rounded before a sum
// (float64() around it; Go spec, "Floating-point operators"), which no
// compiler may fuse, and so the same on every machine.
//
// The methods are the textbook ones: reduction by multiples of ln 2 split
// in two parts (Cody and Waite, Software Manual for the Elementary
// Functions, 1980) and Taylor series on the reduced range for the
// exponential; log(1+g) = 2 atanh(g/(2+g)) for the logarithm. Each result
// is within about one unit in the last place of the true value
// (TestAccuracy measures it against math).
package detmath

import "math"

// ln2Hi holds the leading 21 bits of ln 2, so k·ln2Hi is exact for any
// exponent k; ln2Lo is the rest (a constant expression, exact until it is
// rounded once to float64).
const (
	ln2Hi   = 0x1.62e42p-1
	ln2Lo   = math.Ln2 - ln2Hi
	halfLn2 = math.Ln2 / 2
)

// Arguments beyond which Exp overflows to +Inf or underflows to 0.
const (
	expMax = 709.782712893383973096   // log(MaxFloat64)
	expMin = -745.1332191019412076235 // log(SmallestNonzeroFloat64 / 2)
)

// expm1Coef holds 1/n! for n = 2, ..., 15: the Taylor series of e^r - 1
// to r^15, whose remainder for |r| <= ln 2 / 2 is below 2^-56 of the
// result (|r|^15/15!/|r| < 3e-19 at |r| = 0.347).
var expm1Coef = func() [14]float64 {
	var c [14]float64
	f := 1.0
	for n := 2; n <= 15; n++ {
		f *= float64(n)
		c[n-2] = 1 / f
	}
	return c
}()

// expm1Reduced returns e^r - 1 for |r| <= ln 2 / 2 (a hair more after
// rounding) as r + r² q(r), q the Taylor series from 1/2! on in Horner
// form.
func expm1Reduced(r float64) float64 {
	q := expm1Coef[len(expm1Coef)-1]
	for i := len(expm1Coef) - 2; i >= 0; i-- {
		q = expm1Coef[i] + float64(r*q)
	}
	return r + float64(float64(r*r)*q)
}

// reduce returns k and r with x = k ln 2 + r, |r| <= ln 2 / 2. x - k·ln2Hi
// is exact (k·ln2Hi is, and the two are within a factor of two of each
// other), so r carries one rounding.
func reduce(x float64) (int, float64) {
	k := math.Round(x * math.Log2E)
	return int(k), (x - float64(k*ln2Hi)) - float64(k*ln2Lo)
}

// Exp returns e^x.
func Exp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > expMax:
		return math.Inf(1)
	case x < expMin:
		return 0
	case math.Abs(x) <= halfLn2:
		return 1 + expm1Reduced(x)
	}
	k, r := reduce(x)
	return math.Ldexp(1+expm1Reduced(r), k)
}

// Expm1 returns e^x - 1, accurately also for x near 0.
func Expm1(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > expMax:
		return math.Inf(1)
	case x < -40: // e^x < 2^-57: -1 + e^x rounds to -1
		return -1
	case math.Abs(x) <= halfLn2:
		return expm1Reduced(x)
	}
	k, r := reduce(x)
	em := expm1Reduced(r)
	if k > 56 { // the -1 is below half a unit in the last place
		return math.Ldexp(1+em, k)
	}
	// e^x - 1 = 2^k (1 + em) - 1 = 2^k em + (2^k - 1): the scaling is
	// exact, and so is 2^k - 1 for -53 <= k <= 53 (beyond, its rounding
	// is far below the result's last place); one rounding in the sum.
	return math.Ldexp(em, k) + (math.Ldexp(1, k) - 1)
}

// atanhCoef holds 2/(2n+1) for n = 1, ..., 10: log(1+g) = 2 atanh(s) =
// 2s + s R(s²), R(z) = Σ 2zⁿ/(2n+1). For |s| <= 0.1716 (g between
// √2/2 - 1 and √2 - 1) the first omitted term, 2z^11/23, is below 1e-18.
var atanhCoef = func() [10]float64 {
	var c [10]float64
	for n := 1; n <= 10; n++ {
		c[n-1] = 2 / float64(2*n+1)
	}
	return c
}()

// log1pReduced returns log(1+g) for g between √2/2 - 1 and √2 - 1, g
// exact. With s = g/(2+g), 2s = g - s g, so log(1+g) = g - s (g - R): the
// rounding of s then moves the result by only about s² times its own
// relative error, and g, the bulk of it, enters exactly.
func log1pReduced(g float64) float64 {
	s := g / (2 + g)
	z := s * s
	r := atanhCoef[len(atanhCoef)-1]
	for i := len(atanhCoef) - 2; i >= 0; i-- {
		r = atanhCoef[i] + float64(z*r)
	}
	r = float64(z * r)
	return g - float64(s*(g-r))
}

// Log returns the natural logarithm of x.
func Log(x float64) float64 {
	switch {
	case x != x || math.IsInf(x, 1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	f, e := math.Frexp(x) // x = f 2^e, f in [1/2, 1)
	if f < math.Sqrt2/2 {
		f *= 2
		e--
	}
	// f in [√2/2, √2): f - 1 is exact.
	if e == 0 {
		return log1pReduced(f - 1)
	}
	k := float64(e)
	return float64(k*ln2Hi) + (log1pReduced(f-1) + float64(k*ln2Lo))
}

// Log1p returns log(1+u), accurately also for u near 0.
func Log1p(u float64) float64 {
	switch {
	case u != u || math.IsInf(u, 1):
		return u
	case u < -1:
		return math.NaN()
	case u == -1:
		return math.Inf(-1)
	case u >= math.Sqrt2/2-1 && u <= math.Sqrt2-1:
		return log1pReduced(u)
	}
	// w = 1 + u rounded; c, the rounding error (1 + u) - w, is exact
	// from either form (Sterbenz's lemma), and log(1+u) = log w +
	// log(1 + c/w) ≈ log w + c/w.
	w := 1 + u
	var c float64
	if w <= 2 {
		c = u - (w - 1)
	} else {
		c = 1 - (w - u)
	}
	return Log(w) + c/w
}
