package state

import (
	"context"
	"errors"
	"testing"
)

func TestContinueJob_ChainFollowsTheBackupJobAndKeepsEachJobsOwnTruth(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		primary := mustJob(t, s, "conn_primary")
		if err := s.FinishJob(ctx, primary.ID, JobFailed, "lost connection", 120, 4096); err != nil {
			t.Fatal(err)
		}
		backup, err := s.CreateJob(ctx, "conn_backup", "backup", "test-host:1")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ContinueJob(ctx, primary.ID, backup.ID); err != nil {
			t.Fatal(err)
		}
		// Recording the same link twice (a retried call) is harmless.
		if err := s.ContinueJob(ctx, primary.ID, backup.ID); err != nil {
			t.Fatalf("same link again: %v", err)
		}
		if err := s.FinishJob(ctx, backup.ID, JobSucceeded, "", 3000, 90000); err != nil {
			t.Fatal(err)
		}

		chain, err := s.JobChain(ctx, primary.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(chain) != 2 || chain[0].ID != primary.ID || chain[1].ID != backup.ID {
			t.Fatalf("chain of %d = %+v, want [%d %d]", primary.ID, chain, primary.ID, backup.ID)
		}
		// Each job still says what really happened to it.
		if chain[0].Status != JobFailed || chain[0].Error != "lost connection" || chain[0].Rows != 120 || chain[0].ContinuedBy != backup.ID {
			t.Errorf("primary job = %+v", chain[0])
		}
		if chain[1].Status != JobSucceeded || chain[1].Source != "backup" || chain[1].Rows != 3000 || chain[1].ContinuedBy != 0 {
			t.Errorf("backup job = %+v", chain[1])
		}
		if only, err := s.JobChain(ctx, backup.ID); err != nil || len(only) != 1 {
			t.Errorf("chain of the backup job = %+v, %v; want itself", only, err)
		}
		if head, err := s.ChainHead(ctx, backup.ID); err != nil || head != primary.ID {
			t.Errorf("ChainHead(%d) = %d, %v; want %d", backup.ID, head, err, primary.ID)
		}
		if head, err := s.ChainHead(ctx, primary.ID); err != nil || head != primary.ID {
			t.Errorf("ChainHead(%d) = %d, %v; want itself", primary.ID, head, err)
		}
		if from, err := s.ContinuedFrom(ctx, backup.ID); err != nil || from != primary.ID {
			t.Errorf("ContinuedFrom(%d) = %d, %v", backup.ID, from, err)
		}
		listed, err := s.ListJobs(ctx, JobFilter{Connection: "conn_primary"})
		if err != nil || len(listed) != 1 || listed[0].ContinuedBy != backup.ID {
			t.Errorf("ListJobs = %+v, %v; want the link", listed, err)
		}
	})
}

func TestContinueJob_RefusesLinksThatWouldNotBeAChain(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, bk backend) {
		ctx := context.Background()
		s := bk.open(t)
		a := mustJob(t, s, "a")
		b := mustJob(t, s, "b")
		c := mustJob(t, s, "c")
		if err := s.ContinueJob(ctx, a.ID, a.ID); !errors.Is(err, ErrBadContinuation) {
			t.Errorf("a job continuing itself: %v", err)
		}
		if err := s.ContinueJob(ctx, a.ID, 999); !errors.Is(err, ErrNotFound) {
			t.Errorf("continued by a missing job: %v", err)
		}
		if err := s.ContinueJob(ctx, 999, a.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("a missing job continued: %v", err)
		}
		if err := s.ContinueJob(ctx, a.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.ContinueJob(ctx, a.ID, c.ID); !errors.Is(err, ErrBadContinuation) {
			t.Errorf("a second continuation of one job: %v", err)
		}
		if err := s.ContinueJob(ctx, c.ID, b.ID); !errors.Is(err, ErrBadContinuation) {
			t.Errorf("one job continuing two: %v", err)
		}
	})
}
