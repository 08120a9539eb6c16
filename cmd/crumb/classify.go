package main

import (
	"context"
	"errors"
)

// runClassify is being written; this placeholder keeps the build green until then.
func runClassify(ctx context.Context, args []string, e env) error {
	return errors.New("classify: not implemented yet")
}
