// Package fit fits the analytic worm models of package model to observed
// series, with 95% intervals, and estimates the global infected population
// and its peak time from what one observer saw. It also offers LogisticKT, a
// quick logistic summary of a simulated infected curve.
package fit
