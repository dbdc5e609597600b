// Package browsertest finds the headless Chromium that the browser tests
// of the report and the lab drive. It is for tests only.
package browsertest

import (
	"os"
	"os/exec"
	"testing"
)

// Find returns the browser to test with: $WORMLAB_CHROMIUM, or Debian's
// chromium on the PATH (scripts/test installs it in CI); "" when there is
// none.
func Find() string {
	if p := os.Getenv("WORMLAB_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Need returns the browser, or skips t without one (and in -short mode),
// unless WORMLAB_REQUIRE_CHROMIUM=1 (CI) makes a missing browser a
// failure.
func Need(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin := Find()
	if bin == "" && os.Getenv("WORMLAB_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("no chromium, and WORMLAB_REQUIRE_CHROMIUM=1 (CI) says the browser test must run")
	}
	if bin == "" {
		t.Skip("SKIP browser test: no chromium on this machine (install Debian's chromium, which scripts/test does when apt-get works, or set WORMLAB_CHROMIUM)")
	}
	return bin
}
