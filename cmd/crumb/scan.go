package main

import (
	"context"
	"errors"
)

// runScan is being written; this placeholder keeps the build green until then.
func runScan(ctx context.Context, args []string, e env) error {
	return errors.New("scan: not implemented yet")
}
