package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/acode-dev/acode/internal/alert"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/health"
	"github.com/acode-dev/acode/internal/mysql"
)

// reloadOnSIGHUP re-reads the project's secrets (config.Project.
// ReloadSecrets) on every SIGHUP until ctx ends or stop is called: a
// password or key rotated in its file is used by the next connection.
func reloadOnSIGHUP(ctx context.Context, log *slog.Logger, p *config.Project) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				changed, err := p.ReloadSecrets()
				if err != nil {
					log.Error("SIGHUP: secrets not reloaded; the previous ones stay in use", "err", err)
					continue
				}
				log.Info("SIGHUP: secrets reloaded", "changed", changed)
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// alertCredentials raises password_expired/<source> when a source's
// connectivity check was refused for an expired password, and clears it
// when the source answers again.
func alertCredentials(ctx context.Context, mgr *alert.Manager, p *config.Project, results []health.Result) error {
	var errs []error
	for _, r := range results {
		src := p.Sources[r.Target]
		if r.Check != health.CheckConnectivity || src == nil {
			continue
		}
		expired := mysql.IsPasswordExpired(r.Err)
		if !expired && r.Status != failure.OK {
			continue // down for another reason: the check's own alert says so
		}
		errs = append(errs, mgr.PasswordExpired(ctx, src.ResourceName, "'"+src.Username+"'", src.Addr(), expired))
	}
	return errors.Join(errs...)
}
