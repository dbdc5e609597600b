package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sync"
)

//go:embed report.html.tmpl
var pageSource string

// page is parsed on first use, so that commands which never write a report
// do not pay for it at start-up.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Parse(pageSource))
})

type htmlChart struct {
	ID      string
	Caption string
	SVG     template.HTML
}

type htmlSection struct {
	*Section
	SVGs []htmlChart
}

// WriteHTML writes the report as one HTML page that needs nothing else: the
// charts are inline SVG, the style and the one script are inline, and a
// Content-Security-Policy forbids the page from loading anything at all, so
// it opens the same offline, in a mail attachment or on a laptop on a plane.
// The script checks that every chart drew and records the result on the body
// element (data-charts), which the browser test reads.
func (r *Report) WriteHTML(w io.Writer) error {
	var secs []htmlSection
	for _, s := range r.Sections {
		hs := htmlSection{Section: s}
		for _, c := range s.Charts {
			svg, err := c.SVG()
			if err != nil {
				return err
			}
			// The SVG comes from our own canvas, which escapes every
			// string it draws, so it is safe to inline as is.
			hs.SVGs = append(hs.SVGs, htmlChart{ID: c.File, Caption: c.Caption, SVG: template.HTML(svg)})
		}
		secs = append(secs, hs)
	}
	data := struct {
		*Report
		Secs []htmlSection
	}{r, secs}
	if err := page().Execute(w, data); err != nil {
		return fmt.Errorf("report page: %w", err)
	}
	return nil
}
