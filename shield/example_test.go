package shield_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/wormlab/wormlab/shield"
)

func ExampleMiddleware() {
	site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "welcome\n")
	})
	h := shield.Middleware(site, shield.Options{
		Actions: map[string]shield.Action{"*": shield.NotFound},
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, path := range []string{"/", "/scripts/root.exe?/c+dir"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s: %d %s", path, resp.StatusCode, body)
	}
	// Output:
	// /: 200 welcome
	// /scripts/root.exe?/c+dir: 404 not found
}
