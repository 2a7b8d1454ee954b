package kind

import (
	"testing"

	"github.com/crmbatch/crmbatch/crm"
)

// TestJudge: what a state read back after a lost answer says of each action,
// with the state before known (from the customer's earlier row, or read before)
// and not known.
func TestJudge(t *testing.T) {
	t.Parallel()
	var (
		none      = state{}
		effective = state{number: "S1", lifeCycle: crm.LifeCycleEffective}
		suspended = state{number: "S1", lifeCycle: crm.LifeCycleNotEffective}
		cancelled = state{number: "S1", lifeCycle: crm.LifeCycleCancelled}
		newer     = state{number: "S2", lifeCycle: crm.LifeCycleEffective}
		// states a row left whose number the run never read
		someEffective = state{lifeCycle: crm.LifeCycleEffective}
		someSuspended = state{lifeCycle: crm.LifeCycleNotEffective}
		someCancelled = state{lifeCycle: crm.LifeCycleCancelled}
	)
	for _, tc := range []struct {
		name   string
		action string
		before state
		known  bool
		after  state
		want   verdict
	}{
		{"create, none before, one after", ActionCreate, none, true, newer, verdictApplied},
		{"create, cancelled before, a new one after", ActionCreate, cancelled, true, newer, verdictApplied},
		{"create, cancelled (number unknown) before, a new one after", ActionCreate, someCancelled, true, newer, verdictApplied},
		{"create, none before, none after", ActionCreate, none, true, none, verdictNotApplied},
		{"create, had one before, the same after", ActionCreate, effective, true, effective, verdictNotApplied},
		{"create, had one (number unknown) before, one after", ActionCreate, someEffective, true, effective, verdictNotApplied},
		{"create, had one before, another after", ActionCreate, effective, true, newer, verdictApplied},
		{"create, suspended (number unknown) before, effective after", ActionCreate, someSuspended, true, effective, verdictNeither},
		{"create, none before, suspended after", ActionCreate, none, true, suspended, verdictNeither},
		{"create, not known, one after", ActionCreate, none, false, effective, verdictMayHaveBeen},
		{"create, not known, none after", ActionCreate, none, false, none, verdictNotApplied},
		{"create, not known, cancelled after", ActionCreate, none, false, cancelled, verdictNotApplied},
		{"create, not known, suspended after", ActionCreate, none, false, suspended, verdictNotApplied},

		{"suspend, effective before, suspended after", ActionSuspend, effective, true, suspended, verdictApplied},
		{"suspend, effective (number unknown) before, suspended after", ActionSuspend, someEffective, true, suspended, verdictApplied},
		{"suspend, effective before, effective after", ActionSuspend, effective, true, effective, verdictNotApplied},
		{"suspend, suspended before, suspended after", ActionSuspend, suspended, true, suspended, verdictNotApplied},
		{"suspend, suspended (number unknown) before, suspended after", ActionSuspend, someSuspended, true, suspended, verdictNotApplied},
		{"suspend, effective before, cancelled after", ActionSuspend, effective, true, cancelled, verdictNeither},
		{"suspend, none before, suspended after", ActionSuspend, none, true, suspended, verdictNeither},
		{"suspend, effective before, another subscription suspended after", ActionSuspend, effective, true, state{number: "S2", lifeCycle: crm.LifeCycleNotEffective}, verdictNeither},
		{"suspend, not known, suspended after", ActionSuspend, none, false, suspended, verdictMayHaveBeen},
		{"suspend, not known, effective after", ActionSuspend, none, false, effective, verdictNotApplied},
		{"suspend, not known, none after", ActionSuspend, none, false, none, verdictNotApplied},

		{"unsuspend, suspended before, effective after", ActionUnsuspend, suspended, true, effective, verdictApplied},
		{"unsuspend, effective before, effective after", ActionUnsuspend, effective, true, effective, verdictNotApplied},
		{"unsuspend, not known, effective after", ActionUnsuspend, none, false, effective, verdictMayHaveBeen},
		{"unsuspend, not known, suspended after", ActionUnsuspend, none, false, suspended, verdictNotApplied},

		{"cancel, effective before, cancelled after", ActionCancel, effective, true, cancelled, verdictApplied},
		{"cancel, suspended before, cancelled after", ActionCancel, suspended, true, cancelled, verdictApplied},
		{"cancel, cancelled before, cancelled after", ActionCancel, cancelled, true, cancelled, verdictNotApplied},
		{"cancel, cancelled (number unknown) before, cancelled after", ActionCancel, someCancelled, true, cancelled, verdictNotApplied},
		{"cancel, none before, cancelled after", ActionCancel, none, true, cancelled, verdictNeither},
		{"cancel, not known, cancelled after", ActionCancel, none, false, cancelled, verdictMayHaveBeen},
		{"cancel, not known, effective after", ActionCancel, none, false, effective, verdictNotApplied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := judge(tc.action, tc.before, tc.known, tc.after); got != tc.want {
				t.Errorf("judge(%s, %v known %v, %v) = %d, want %d", tc.action, tc.before, tc.known, tc.after, got, tc.want)
			}
		})
	}
}

// TestStateNote: the state before a call goes through the intent's note and
// back unchanged, a subscription of unknown number included.
func TestStateNote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		s     state
		known bool
		note  string
	}{
		{"not known", state{}, false, "?"},
		{"no subscription", state{}, true, "-"},
		{"a subscription", state{number: "S0000000001", lifeCycle: crm.LifeCycleEffective}, true, "S0000000001 EFFECTIVE"},
		{"a subscription of unknown number", state{lifeCycle: crm.LifeCycleCancelled}, true, "* CANCELLED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			note := tc.s.String(tc.known)
			if note != tc.note {
				t.Errorf("note %q, want %q", note, tc.note)
			}
			if s, known := parseState(note); s != tc.s || known != tc.known {
				t.Errorf("parseState(%q) = %v, %v; want %v, %v", note, s, known, tc.s, tc.known)
			}
		})
	}
}
