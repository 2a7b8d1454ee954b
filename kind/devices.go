package kind

import (
	"context"
	"errors"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/pacer"
	"github.com/crmbatch/crmbatch/report"
)

// Device actions.
const (
	ActionRegister   = "register"
	ActionUnregister = "unregister"
)

type deviceItem struct {
	ESN   string
	Group crm.GroupIdentifier
}

// Devices registers or unregisters Netflix devices (ESNs) against an operator group,
// up to 1000 of one (action, group) per call. The group columns are named after
// the fields of the API's group_identifier: group_id (id), group_name (name, which
// the API calls the code of the group) and group_alternative_code
// (alternative_code).
var Devices = &Kind{
	Name:        "devices",
	Required:    []string{"esn"},
	Optional:    []string{"action", "group_id", "group_name", "group_alternative_code"},
	MaxChunk:    1000,
	checkHeader: checkGroupColumns,
	rows: spec[deviceItem]{
		read: parseDevice,
		uniques: func(d deviceItem, u []Unique) []Unique {
			return append(u, Unique{Column: "esn", Value: d.ESN, Fold: true})
		},
		effectOf: func(h EffectHash, it Item, d deviceItem) EffectHash { return h.Add(it.Key).Add(d.ESN) },
		send:     callDevices,
	},
}

func (deviceItem) isPayload() {}

func parseDevice(v Row) (Item, deviceItem, error) {
	esn, err := v.required("esn")
	if err != nil {
		return Item{}, deviceItem{}, err
	}
	if err := checkIdentifier(v, "esn", esn); err != nil {
		return Item{}, deviceItem{}, err
	}
	action, err := v.choice("action", ActionRegister, ActionRegister, ActionUnregister)
	if err != nil {
		return Item{}, deviceItem{}, err
	}
	g := crm.GroupIdentifier{ID: v.value("group_id"), Name: v.value("group_name"), AlternativeCode: v.value("group_alternative_code")}
	set := 0
	for _, s := range []string{g.ID, g.Name, g.AlternativeCode} {
		if s != "" {
			set++
		}
	}
	switch set {
	case 0:
		return Item{}, deviceItem{}, Invalid("group_name", "REQUIRED", "a group is required: fill group_id, group_name or group_alternative_code, or pass --group-name")
	case 1:
	default:
		return Item{}, deviceItem{}, Invalid("group_name", "INVALID_VALUE", "give exactly one of group_id, group_name and group_alternative_code")
	}
	return Item{Action: action, Key: v.key(action, g.ID, g.Name, g.AlternativeCode)}, deviceItem{ESN: esn, Group: g}, nil
}

// GroupCodeHint explains why a group_code column (or --group-code) is refused:
// the API's group has two codes, and the name says neither.
const GroupCodeHint = "a group has two codes in CRM.COM: its name, which the API calls \"the code of the group\" " +
	"(the group_name column, --group-name), and its alternative_code, another field (the group_alternative_code " +
	"column, --group-alternative-code); rename the column after the one you hold"

// checkGroupColumns refuses a group_code column: crmbatch cannot tell which of
// the group's two codes it holds.
func checkGroupColumns(cols []string) error {
	for _, c := range cols {
		if c == "group_code" {
			return fault.WithHint(errors.New("column group_code: it names no field of the API's group identifier"), GroupCodeHint)
		}
	}
	return nil
}

func callDevices(ctx context.Context, x Executor, _ Intent, items []Item, ps []deviceItem) ([]Result, int, error) {
	first := ps[0]
	devices := make([]crm.Device, len(ps))
	for i, d := range ps {
		devices[i] = crm.Device{ESN: d.ESN}
	}
	var failed []crm.Device
	call := func(ctx context.Context) (err error) {
		if items[0].Action == ActionUnregister {
			failed, err = x.Client().UnregisterDevices(ctx, first.Group, devices)
		} else {
			failed, err = x.Client().RegisterDevices(ctx, first.Group, devices)
		}
		return err
	}
	// Registering and unregistering are idempotent: a resend after an ambiguous
	// failure applies nothing twice, and its answer tells what came of the rows.
	attempts, err := x.Call(ctx, pacer.Attempt{Send: call})
	if err != nil {
		return nil, attempts, err
	}
	set := make([]failure, len(failed))
	for i, d := range failed {
		set[i] = failure{id: d.ESN}
	}
	found, stray := matchFailures(len(ps), func(i int) string { return ps[i].ESN }, nil, set)
	out := make([]Result, len(items))
	for i := range items {
		switch _, bad := found[i]; {
		case stray != nil:
			out[i] = Unmatched(stray, attempts)
		case bad:
			out[i] = Result{Status: report.StatusFailed, Code: "DEVICE_FAILED", Message: "the CRM.COM server refused this device (failed_devices_set gives no reason)", Attempts: attempts}
		default:
			out[i] = Result{Status: report.StatusOK, Attempts: attempts}
		}
	}
	return out, attempts, nil
}
