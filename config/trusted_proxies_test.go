package config

import (
	"strings"
	"testing"
)

func TestTrustedProxies(t *testing.T) {
	env := map[string]string{"UNIONBOT_TRUSTED_PROXIES": "10.0.0.0/8, 172.16.0.1 ,::1"}
	c, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 172.16.0.1/32 ::1/128" {
		t.Errorf("got %v", got)
	}
	env["UNIONBOT_TRUSTED_PROXIES"] = "10.0.0.0/8,proxy.local"
	if _, err := Load(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "UNIONBOT_TRUSTED_PROXIES") {
		t.Errorf("malformed entry: got %v", err)
	}
	if c, err := Load(func(string) string { return "" }); err != nil || c.TrustedProxies != nil {
		t.Errorf("default: %v, %v", c.TrustedProxies, err)
	}
}
