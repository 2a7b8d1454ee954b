package lineage

import "testing"

// TestCanonicalEndpoint: every spelling of one installation is one endpoint,
// and other installations stay apart.
func TestCanonicalEndpoint(t *testing.T) {
	t.Parallel()
	const want = "https://crm.example.com/crmapi/rest/v2"
	for _, tc := range []struct {
		raw  string
		same bool
	}{
		{"https://crm.example.com/crmapi/rest/v2/", true},
		{"https://crm.example.com/crmapi/rest/v2", true},
		{"HTTPS://CRM.Example.COM/crmapi/rest/v2/", true},
		{"https://crm.example.com:443//crmapi//rest/v2///", true},
		{" https://crm.example.com/crmapi/rest/v2/ ", true},
		{"http://crm.example.com/crmapi/rest/v2/", false},
		{"https://crm.example.com:8443/crmapi/rest/v2/", false},
		{"https://crm2.example.com/crmapi/rest/v2/", false},
		{"https://crm.example.com/CRMAPI/rest/v2/", false}, // paths are case-sensitive
	} {
		if got := CanonicalEndpoint(tc.raw); (got == want) != tc.same {
			t.Errorf("CanonicalEndpoint(%q) = %q; same installation as %q: %v", tc.raw, got, want, tc.same)
		}
	}
	if a, b := CanonicalEndpoint("http://[::1]:80/x/"), CanonicalEndpoint("HTTP://[::1]/x"); a != b {
		t.Errorf("IPv6 spellings differ: %q, %q", a, b)
	}
}

// TestJobKeyIgnoresHowWorkIsCut: the key changes with what is sent, not with
// how it is cut into calls (chunk size and concurrency are not arguments).
func TestJobKeyIgnoresHowWorkIsCut(t *testing.T) {
	t.Parallel()
	base := JobKey("sum", "devices", "", map[string]string{"group_name": "OP1"}, "https://h/p")
	for _, tc := range []struct {
		name string
		key  string
	}{
		{"content", JobKey("sum2", "devices", "", map[string]string{"group_name": "OP1"}, "https://h/p")},
		{"sheet", JobKey("sum", "devices", "S", map[string]string{"group_name": "OP1"}, "https://h/p")},
		{"flag", JobKey("sum", "devices", "", map[string]string{"group_name": "OP2"}, "https://h/p")},
		{"endpoint", JobKey("sum", "devices", "", map[string]string{"group_name": "OP1"}, "https://h/q")},
	} {
		if tc.key == base {
			t.Errorf("a different %s gives the same job key", tc.name)
		}
	}
}
