package sim

// scanFactor returns the factor on every spreading host's scan rate: the
// congestion factor (1 - I/N)^eta and, when the network has a capacity,
// the share of the offered probes it carries. spreadRate is the summed scan
// rate of the hosts that spread. Below the capacity nothing changes; above
// it every host's rate shrinks in proportion, so the aggregate stays at
// the capacity (Slammer was limited by bandwidth, not by its hosts' speed:
// Moore, Paxson, Savage, Shannon, Staniford, Weaver, "Inside the Slammer
// Worm", IEEE Security and Privacy 2003, measured a peak of about 55
// million scans a second).
func scanFactor(c *Config, counts *[numStates]int64, spreadRate float64) float64 {
	f := congestion(c, counts)
	if cap := c.ScanCapacity; cap > 0 && f*spreadRate > cap {
		f = cap / spreadRate
	}
	return f
}
