package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/store"
)

// webhookReceive stores one Alertmanager delivery. It answers 200 only after the transaction has
// committed; when the store is unavailable it answers 503 so Alertmanager retries.
func (s *Server) webhookReceive(c *fiber.Ctx) error {
	start := time.Now()
	code, err := s.webhookStore(c)
	s.metrics.webhookRequests.WithLabelValues(strconv.Itoa(code)).Inc()
	s.metrics.webhookDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		if code >= 500 {
			s.log.Warn("webhook not stored", "status", code, "err", err)
		}
		return c.Status(code).JSON(fiber.Map{"error": err.Error()})
	}
	return c.Status(code).JSON(fiber.Map{"status": "stored"})
}

func (s *Server) webhookStore(c *fiber.Ctx) (int, error) {
	if tok := s.cfg.Webhook.Token; tok != "" {
		got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(tok)) != 1 {
			return fiber.StatusUnauthorized, errors.New("missing or wrong bearer token")
		}
	}
	if enc := contentEncoding(c); enc != "" {
		return fiber.StatusUnsupportedMediaType, errors.New("compressed bodies are not accepted (Content-Encoding: " + enc + ")")
	}
	// The raw body: Fiber's c.Body() would decompress it by the last Content-Encoding header, unbounded.
	body := c.Request().Body()
	if int64(len(body)) > int64(s.cfg.Webhook.MaxBody) {
		return fiber.StatusRequestEntityTooLarge, errors.New("body larger than webhook.max_body (" + s.cfg.Webhook.MaxBody.String() + ")")
	}
	n, err := decodeWebhook(body, s.now().UTC(), s.cfg.TeamFor)
	if err != nil {
		return fiber.StatusBadRequest, err
	}
	for _, a := range n.Alerts {
		for _, f := range a.Flags {
			s.metrics.alertsFlagged.WithLabelValues(f).Inc()
		}
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 8*time.Second)
	defer cancel()
	res, err := s.st(ctx).IngestNotification(ctx, n)
	if err != nil {
		if errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
			return fiber.StatusServiceUnavailable, errors.New("store unavailable, retry later")
		}
		return fiber.StatusServiceUnavailable, errors.New("could not store the notification, retry later")
	}
	s.metrics.alertsStored.Add(float64(len(n.Alerts)))
	if res.Duplicate {
		s.metrics.notifications.WithLabelValues("duplicate").Inc()
	} else {
		s.metrics.notifications.WithLabelValues("new").Inc()
	}
	if n.TruncatedAlerts > 0 {
		// Alertmanager left alerts out of this payload (max_alerts): read the rest from its API now.
		s.opts.Reconcile()
	}
	return fiber.StatusOK, nil
}

// contentEncoding returns the first Content-Encoding other than identity among all the request's
// Content-Encoding headers (a client may send several, and Fiber decodes by the last one), or "".
func contentEncoding(c *fiber.Ctx) string {
	var enc string
	c.Request().Header.VisitAll(func(k, v []byte) {
		if enc != "" || !strings.EqualFold(string(k), fiber.HeaderContentEncoding) {
			return
		}
		for _, e := range strings.Split(string(v), ",") {
			if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "identity") {
				enc = string(v)
				return
			}
		}
	})
	return enc
}
