package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/acode-dev/acode/internal/config"
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
