package logformat

import "testing"

// TestAuto reads one file that changes format line by line, as a log does
// when a server is replaced, a relay mixes servers or lines are pasted in.
func TestAuto(t *testing.T) {
	cr1 := "/default.ida?NNNN%u9090=a"
	runLines(t, New(Auto), []lineCase{
		{`10.1.2.3 - - [19/Jul/2001:10:00:01 +0000] "GET ` + cr1 + ` HTTP/1.0" 404 205 "-" "-"`, OK,
			"2001-07-19T10:00:01Z host=10.1.2.3(0a010203) uri=GET " + cr1 + " HTTP/1.0"},
		// A byte-order mark before the W3C header, then IIS lines.
		{"\xef\xbb\xbf#Software: Microsoft Internet Information Services 5.0", Skip, ""},
		{"#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status", Skip, ""},
		{"2001-07-19 10:00:02 10.1.2.4 GET /default.ida XXXX%u9090=a 404", OK,
			"2001-07-19T10:00:02Z host=10.1.2.4(0a010204) path=/default.ida query=XXXX%u9090=a"},
		// squid's native format after them: the fallback reads it.
		{"995536803.123    210 10.1.2.5 TCP_MISS/404 1234 GET http://www.example.com/default.ida? - DIRECT/192.0.2.1 text/html", OK,
			"2001-07-19T10:00:03Z host=10.1.2.5(0a010205) uri=GET http://www.example.com/default.ida?"},
		// The IIS comma format of 2001, in local time taken as UTC.
		{"192.0.2.7, -, 7/19/01, 10:00:04, W3SVC1, WEB1, 10.0.0.5, 15, 400, 250, 404, 2, GET, /scripts/root.exe, /c+dir,", OK,
			"2001-07-19T10:00:04Z host=192.0.2.7(c0000207) path=/scripts/root.exe query=/c+dir"},
		{"192.0.2.8, -, 09/19/2001, 0:00:05, W3SVC1, WEB1, 10.0.0.5, 15, 400, 250, 404, 2, GET, /index.html, -,", OK,
			"2001-09-19T00:00:05Z host=192.0.2.8(c0000208) path=/index.html"},
		// Relayed through syslog: the client is the access log's, never the relay's.
		{`Jul 19 10:00:06 10.9.9.9 httpd[812]: 10.1.2.6 - - [19/Jul/2001:10:00:06 +0000] "GET ` + cr1 + ` HTTP/1.0" 404 205`, OK,
			"2001-07-19T10:00:06Z host=10.1.2.6(0a010206) uri=GET " + cr1 + " HTTP/1.0"},
		{`Jul 19 10:00:07 relay apache: 10.1.2.7 - - [19/Jul/2001:10:00:07 +0000] "GET / HTTP/1.0" 200 5`, OK,
			"2001-07-19T10:00:07Z host=10.1.2.7(0a010207) uri=GET / HTTP/1.0"},
		{`2001-07-19T10:00:08+00:00 10.9.9.9 nginx: 10.1.2.8 - - [19/Jul/2001:10:00:08 +0000] "GET / HTTP/1.1" 200 5 "-" "x"`, OK,
			"2001-07-19T10:00:08Z host=10.1.2.8(0a010208) uri=GET / HTTP/1.1"},
		{`<134>1 2001-07-19T10:00:09Z 10.9.9.9 httpd 812 - [origin ip="10.9.9.9"] 10.1.2.9 - - [19/Jul/2001:10:00:09 +0000] "GET / HTTP/1.1" 200 5`, OK,
			"2001-07-19T10:00:09Z host=10.1.2.9(0a010209) uri=GET / HTTP/1.1"},
		// A relayed line in no known format: the fallback sees the message
		// only, which holds no address, so there is no client.
		{`Jul 19 10:00:10 10.9.9.9 proxy: GET /scripts/root.exe?/c+dir served`, OK,
			"notime host= uri=GET /scripts/root.exe?/c+dir"},
		// And the combined log again.
		{`10.1.2.10 - - [19/Jul/2001:10:00:11 +0000] "GET / HTTP/1.0" 200 5 "-" "-"`, OK,
			"2001-07-19T10:00:11Z host=10.1.2.10(0a01020a) uri=GET / HTTP/1.0"},
		{`www.example.com:80 10.1.2.11 - - [19/Jul/2001:10:00:12 +0000] "GET / HTTP/1.0" 200 5 "-" "-"`, OK,
			"2001-07-19T10:00:12Z host=10.1.2.11(0a01020b) uri=GET / HTTP/1.0"},
		{"\x00\x01\x02 junk", Bad, "not vhost_combined (no client field)"}, // the reason of the format in use
	})
}

// TestIISBare: W3C lines with no #Fields are read, and the client is
// taken only from a default layout's c-ip, never from s-ip.
func TestIISBare(t *testing.T) {
	p := New(Auto)
	runLines(t, p, []lineCase{
		// IIS 7-10 default: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) ...
		{"2001-09-19 10:00:01 10.0.0.5 GET /scripts/root.exe /c+dir 80 - 192.0.2.9 Mozilla/4.0 404 0 2 15", OK,
			"2001-09-19T10:00:01Z host=192.0.2.9(c0000209) path=/scripts/root.exe query=/c+dir"},
		// IIS 6 default: date time s-sitename s-ip cs-method ...
		{"2001-09-19 10:00:02 W3SVC1 10.0.0.5 GET /default.ida XXXX 80 - 192.0.2.10 - 404 0 2", OK,
			"2001-09-19T10:00:02Z host=192.0.2.10(c000020a) path=/default.ida query=XXXX"},
		// Unknown layout: no client rather than the server's address.
		{"2001-09-19 10:00:03 10.0.0.5 80 GET /default.ida XXXX 404", OK,
			"2001-09-19T10:00:03Z host= path=/default.ida query=XXXX"},
		// IIS 5's default: time c-ip cs-method cs-uri-stem sc-status, dated by #Date only.
		{"10:00:04 192.0.2.11 GET /default.ida 404", OK,
			"notime host=192.0.2.11(c000020b) path=/default.ida"},
	})
}
