package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestDevicesRefused(t *testing.T) {
	t.Parallel()
	s, c := startLoggedIn(t, Options{})
	many := func(n int) []map[string]string {
		esns := make([]string, n)
		for i := range esns {
			esns[i] = fmt.Sprintf("MANY-%05d", i)
		}
		return devices(esns...)
	}
	op1 := map[string]string{"name": "OPERATOR1"}
	for _, tc := range []struct {
		name  string
		group any
		devs  any
		want  string
	}{
		{"1001 devices", op1, many(1001), "TOO_MANY_DEVICES"},
		{"unknown group name", map[string]string{"name": "OPERATOR9"}, devices("X1"), "GROUP_NOT_FOUND"},
		{"unknown group id", map[string]string{"id": "9"}, devices("X1"), "GROUP_NOT_FOUND"},
		{"two identifiers", map[string]string{"id": "1", "name": "OPERATOR1"}, devices("X1"), "INVALID_VALUE"},
		{"unknown identifier field", map[string]string{"code": "OP1"}, devices("X1"), "INVALID_VALUE"},
		{"missing group", nil, devices("X1"), "MISSING_PARAMETER"},
		{"missing devices", op1, nil, "MISSING_PARAMETER"},
		{"empty devices", op1, devices(), "MISSING_PARAMETER"},
		{"devices not a list", op1, "X1", "INVALID_VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, m := range []string{"register_devices", "unregister_devices"} {
				body := map[string]any{}
				if tc.group != nil {
					body["group_identifier"] = tc.group
				}
				if tc.devs != nil {
					body["devices"] = tc.devs
				}
				wantCode(t, c.mustPost("netflix/operators/"+m, body), tc.want)
			}
		})
	}
	if n := len(s.Applied()); n != 0 {
		t.Errorf("refused calls applied %d effects", n)
	}
	t.Run("1000 devices", func(t *testing.T) {
		a := c.mustPost("netflix/operators/register_devices", map[string]any{"group_identifier": map[string]string{"alternative_code": "OP2"}, "devices": many(1000)})
		wantCode(t, a, "OK")
		if f := failedESNs(t, a); len(f) != 0 {
			t.Errorf("failed = %v", f)
		}
		if n := len(s.Applied()); n != 1000 {
			t.Errorf("Applied() has %d effects, want 1000", n)
		}
	})
}

func TestDevices(t *testing.T) {
	t.Parallel()
	s, c := startLoggedIn(t, Options{})
	call := func(t *testing.T, method string, group map[string]string, esns ...string) []string {
		t.Helper()
		a := c.mustPost("netflix/operators/"+method, map[string]any{"group_identifier": group, "devices": devices(esns...)})
		wantCode(t, a, "OK")
		return failedESNs(t, a)
	}
	long := strings.Repeat("A", 65)
	for _, tc := range []struct {
		name       string
		method     string
		group      map[string]string
		esns       []string
		wantFailed []string
	}{
		{"register", "register_devices", map[string]string{"name": "OPERATOR1"},
			[]string{"NEW-1", "NEW-2", "BLOCKED-1", "bad esn", long, "", "ok.with:all_chars-1"},
			[]string{"BLOCKED-1", "bad esn", long, ""}},
		{"register resend", "register_devices", map[string]string{"id": "1"}, []string{"NEW-1", "NEW-2"}, []string{}},
		{"register to another group", "register_devices", map[string]string{"name": "OPERATOR2"}, []string{"NEW-1", "ESN-DEMO-0001", "NEW-3"}, []string{"NEW-1", "ESN-DEMO-0001"}},
		{"unregister", "unregister_devices", map[string]string{"alternative_code": "OP1"}, []string{"NEW-1", "ESN-DEMO-0002"}, []string{}},
		{"unregister resend", "unregister_devices", map[string]string{"name": "OPERATOR1"}, []string{"NEW-1", "ESN-DEMO-0002"}, []string{}},
		{"unregister never registered", "unregister_devices", map[string]string{"name": "OPERATOR1"}, []string{"NEVER-1", "NEW-3"}, []string{"NEVER-1", "NEW-3"}},
		{"register after unregister", "register_devices", map[string]string{"name": "OPERATOR2"}, []string{"NEW-1"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := call(t, tc.method, tc.group, tc.esns...); !slices.Equal(got, tc.wantFailed) {
				t.Errorf("failed_devices_set = %q, want %q", got, tc.wantFailed)
			}
		})
	}
	applied := s.Applied()
	for _, tc := range []struct {
		method, esn string
		want        int
		group       string
	}{
		{methodRegister, "NEW-1", 2, "OPERATOR2"},
		{methodRegister, "NEW-2", 1, "OPERATOR1"},
		{methodRegister, "NEW-3", 1, "OPERATOR2"},
		{methodUnregister, "NEW-1", 1, "OPERATOR2"},
		{methodUnregister, "ESN-DEMO-0002", 1, ""},
		{methodRegister, "BLOCKED-1", 0, ""},
		{methodRegister, "ESN-DEMO-0001", 0, "OPERATOR1"},
	} {
		if got := applied[Effect{tc.method, tc.esn}]; got != tc.want {
			t.Errorf("Applied %s %s = %d, want %d", tc.method, tc.esn, got, tc.want)
		}
		g, ok := s.DeviceGroup(tc.esn)
		if g != tc.group || ok != (tc.group != "") {
			t.Errorf("DeviceGroup(%s) = %q %v, want %q", tc.esn, g, ok, tc.group)
		}
	}
}
