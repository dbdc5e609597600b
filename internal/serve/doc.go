// Package serve is the lab in the browser (`wormlab serve`): a local web
// application over the same engines, records and reports as the CLI. Pages
// are rendered on the server; a little JavaScript (assets/app.js and the
// vendored uPlot) draws interactive charts and re-runs edited scenarios.
//
// README-dev.md in this directory lists the routes, the JSON endpoints and
// the element ids the browser tests rely on.
package serve
