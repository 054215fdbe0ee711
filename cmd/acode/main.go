// Command acode copies MySQL tables into Parquet on S3 or a local directory,
// replacing an Airbyte connection and the Airflow DAGs around it. Each
// subcommand lives in its own file; this package only wires.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	limitMemory()
	stopProfiles := startProfiles()
	err := newRootCmd().ExecuteContext(ctx)
	stopProfiles()
	stop()
	if err != nil {
		var quiet *exitError
		if !errors.As(err, &quiet) || !quiet.printed {
			fmt.Fprintln(os.Stderr, "acode:", err)
		}
	}
	os.Exit(exitCode(err))
}
