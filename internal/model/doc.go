// Package model holds the analytic worm models that wormlab compares its
// simulations with and fits to observations: the logistic "random constant
// spread" curve of Staniford, Paxson and Weaver (2002) and the two-factor
// model of Zou, Gong and Towsley (2002), solved by fixed-step RK4.
//
// Time is in hours throughout, so rates are per hour; the CLI converts the
// usual per-minute scan rates.
package model
