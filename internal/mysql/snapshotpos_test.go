package mysql

import "testing"

func TestSnapshotPos_EarlierComparesGTIDsPerDomain(t *testing.T) {
	for _, c := range []struct {
		p, q string
		want bool
	}{
		{"0-1-5", "0-1-7", true},
		{"0-1-7", "0-1-5", false},
		{"0-1-5", "0-1-5", false},
		{"0-2-5", "0-1-7", true}, // another server id of the same domain: sequence numbers compare
		{"0-1-5,1-1-9", "0-1-5,1-1-10", true},
		{"0-1-4,1-1-11", "0-1-5,1-1-10", false}, // neither is before the other
		{"0-1-5", "0-1-5,1-1-1", true},          // q began a domain p has not
		{"0-1-5,1-1-1", "0-1-5", false},
		{"", "0-1-1", true},
		{"garbage", "0-1-1", false},
	} {
		if got := (SnapshotPos{GTID: c.p}).Earlier(SnapshotPos{GTID: c.q}); got != c.want {
			t.Errorf("%q before %q = %v, want %v", c.p, c.q, got, c.want)
		}
	}
}
