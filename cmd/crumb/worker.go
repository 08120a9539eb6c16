package main

import (
	"context"
	"errors"
)

// runWorker is being written; this placeholder keeps the build green until then.
func runWorker(ctx context.Context, args []string, e env) error {
	return errors.New("worker: not implemented yet")
}
