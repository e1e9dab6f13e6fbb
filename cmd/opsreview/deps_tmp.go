package main

import (
	_ "github.com/gofiber/fiber/v2"
	_ "github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/api/prometheus/v1"
	_ "github.com/prometheus/common/model"
	_ "go.yaml.in/yaml/v3"
)

func main() {}
