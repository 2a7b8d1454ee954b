package sandbox

import (
	"regexp"
	"slices"
	"strings"
)

const (
	methodRegister   = "netflix/operators/register_devices"
	methodUnregister = "netflix/operators/unregister_devices"
	maxDevices       = 1000
	maxESN           = 64
)

var esnPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]+$`)

// goodESN reports whether the sandbox accepts the ESN at all; ESNs starting with
// BLOCKED stand for devices the operator may not handle.
func goodESN(esn string) bool {
	return len(esn) <= maxESN && esnPattern.MatchString(esn) && !strings.HasPrefix(esn, "BLOCKED")
}

type devicesParams struct {
	GroupIdentifier map[string]string `json:"group_identifier"`
	Devices         []struct {
		ESN string `json:"esn"`
	} `json:"devices"`
}

// parseDevices validates the call and finds its group.
func (s *Server) parseDevices(q *request) (devicesParams, *group, *reply) {
	var p devicesParams
	if bad := q.decode(&p); bad != nil {
		return p, nil, bad
	}
	if len(p.GroupIdentifier) == 0 {
		r := fail("MISSING_PARAMETER", "group_identifier is mandatory")
		return p, nil, &r
	}
	var key, value string
	n := 0
	for k, v := range p.GroupIdentifier {
		if !slices.Contains([]string{"id", "name", "alternative_code"}, k) {
			r := fail("INVALID_VALUE", "group_identifier.%s is not a group identifier field: use one of id, name, alternative_code", k)
			return p, nil, &r
		}
		if v != "" {
			key, value = k, v
			n++
		}
	}
	if n != 1 {
		r := fail("INVALID_VALUE", "group_identifier must have exactly one of id, name, alternative_code")
		return p, nil, &r
	}
	i := slices.IndexFunc(s.st.groups, func(g group) bool {
		switch key {
		case "id":
			return g.id == value
		case "name":
			return g.name == value
		}
		return g.alternativeCode == value
	})
	if i < 0 {
		r := fail("GROUP_NOT_FOUND", "No group with %s %s exists", key, value)
		return p, nil, &r
	}
	if len(p.Devices) == 0 {
		r := fail("MISSING_PARAMETER", "devices is mandatory")
		return p, nil, &r
	}
	if len(p.Devices) > maxDevices {
		r := fail("TOO_MANY_DEVICES", "at most %d devices can be sent in one call, not %d", maxDevices, len(p.Devices))
		return p, nil, &r
	}
	return p, &s.st.groups[i], nil
}

type failedDevice struct {
	ESN string `json:"esn"`
}

func (s *Server) registerDevices(q *request) reply {
	p, g, bad := s.parseDevices(q)
	if bad != nil {
		return *bad
	}
	failed := []failedDevice{}
	for _, d := range p.Devices {
		if !goodESN(d.ESN) {
			failed = append(failed, failedDevice{d.ESN})
			continue
		}
		switch owner, registered := s.st.devices[d.ESN]; {
		case registered && owner != g.id:
			failed = append(failed, failedDevice{d.ESN})
		case registered:
			// already registered to this group: a resend, nothing new
		default:
			s.st.devices[d.ESN] = g.id
			s.apply(methodRegister, d.ESN)
		}
	}
	return ok(map[string]any{"failed_devices_set": failed})
}

func (s *Server) unregisterDevices(q *request) reply {
	p, g, bad := s.parseDevices(q)
	if bad != nil {
		return *bad
	}
	failed := []failedDevice{}
	for _, d := range p.Devices {
		if !goodESN(d.ESN) {
			failed = append(failed, failedDevice{d.ESN})
			continue
		}
		switch owner, registered := s.st.devices[d.ESN]; {
		case registered && owner == g.id:
			delete(s.st.devices, d.ESN)
			s.st.unregistered[[2]string{g.id, d.ESN}] = true
			s.apply(methodUnregister, d.ESN)
		case s.st.unregistered[[2]string{g.id, d.ESN}]:
			// unregistered from this group before: a resend, nothing new
		default:
			failed = append(failed, failedDevice{d.ESN})
		}
	}
	return ok(map[string]any{"failed_devices_set": failed})
}
