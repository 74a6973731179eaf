package web

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.0/8, 192.168.1.5")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePrefixes("10.0.0.0/8,nonsense"); err == nil {
		t.Error("malformed entry accepted")
	}
	for _, tc := range []struct {
		name, remote, xff, want string
	}{
		{"direct client, header ignored", "203.0.113.7:5000", "1.2.3.4", "203.0.113.7"},
		{"trusted proxy", "10.1.2.3:443", "198.51.100.9", "198.51.100.9"},
		{"chain of trusted proxies", "10.1.2.3:443", "198.51.100.9, 192.168.1.5", "198.51.100.9"},
		{"client-written hops are not believed", "10.1.2.3:443", "6.6.6.6, 198.51.100.9", "198.51.100.9"},
		{"trusted proxy without header", "10.1.2.3:443", "", "10.1.2.3"},
		{"malformed hop stops the walk", "10.1.2.3:443", "198.51.100.9, junk", "10.1.2.3"},
		{"IPv4-mapped IPv6", "[::ffff:203.0.113.7]:1", "", "203.0.113.7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ClientAddr(r, trusted); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:443"
	r.Header.Set("X-Forwarded-For", "198.51.100.9")
	if got := ClientAddr(r, nil); got != "10.1.2.3" {
		t.Errorf("no trusted proxies: got %s", got)
	}
}
