package batch

import (
	"net/http"
	"testing"

	"github.com/crmbatch/crmbatch/crm"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		err    crm.Error
		strict bool
		want   step
	}{
		{"429 costs time, not an attempt", crm.Error{Class: crm.Transient, HTTPStatus: http.StatusTooManyRequests}, false, throttle},
		{"429 of a strict call too", crm.Error{Class: crm.Transient, HTTPStatus: http.StatusTooManyRequests}, true, throttle},
		{"503: back off", crm.Error{Class: crm.Transient, HTTPStatus: 503}, false, backOff},
		{"502 of a call that is not idempotent may hide an applied call", crm.Error{Class: crm.Transient, HTTPStatus: 502}, true, readBack},
		{"connection refused: back off", crm.Error{Class: crm.Transient}, true, backOff},
		{"answer lost: read back", crm.Error{Class: crm.Ambiguous}, false, readBack},
		{"credentials refused: stop", crm.Error{Class: crm.Auth, HTTPStatus: 401}, false, stopRun},
		{"redirected: stop", crm.Error{Class: crm.Endpoint}, false, stopRun},
		{"a refusal is final", crm.Error{Class: crm.Permanent, Code: "INVALID_STATE"}, true, giveUp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decide(&tc.err, tc.strict); got != tc.want {
				t.Errorf("decide = %d, want %d", got, tc.want)
			}
		})
	}
}
