package alert

import (
	"context"
	"fmt"

	"github.com/acode-dev/acode/internal/failure"
)

// KindCDCDiverged is a CDC reader that continued on a server lacking
// transactions it had landed (a primary killed while ahead of the replica
// promoted): it rewound and retracted them.
const KindCDCDiverged = "cdc_diverged"

// CDCDiverged raises cdc_diverged/<connection> (warning), naming the
// orphan transactions. It stays open until acknowledged: the orphans
// happened on the old primary only, and someone should decide what
// becomes of them and of that server.
func (m *Manager) CDCDiverged(ctx context.Context, connection, server, from, to, orphans string, count int, retracted int64) error {
	return m.Raise(ctx, Key(KindCDCDiverged, connection), failure.Warning, Details{
		Title:   "CDC rewound past orphan transactions on " + connection,
		System:  "ACODE CDC " + connection,
		Metrics: map[string]any{"orphan_transactions": count, "retracted_rows": retracted},
		Message: fmt.Sprintf("%s lacks %d transactions the change log of %s had landed from the previous server (%s): %s. "+
			"The reader rewound from %s to %s, wrote their rows again with _acode_op 'x' and goes on with %s's transactions.",
			server, count, connection, from, orphans, from, to, server),
		Action: "The orphans were committed on the old primary only. Readers of the change log leave out every GTID with an 'x' row; " +
			"before the old primary rejoins the topology, reconcile or discard its orphan transactions.",
	})
}
