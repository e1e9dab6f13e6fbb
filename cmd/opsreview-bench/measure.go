package main

import "context"

func measure(ctx context.Context, o options, dbURL string) error { return nil }
