package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/model"

	"github.com/opsreview/opsreview/review"
	"github.com/opsreview/opsreview/store"
)

// maxValueBytes bounds one label or annotation value: Postgres could store more, but a 64 KiB label is
// a mistake upstream, and refusing it would make Alertmanager retry for ever. It is kept truncated and
// flagged instead.
const maxValueBytes = 16 << 10

// Flags recorded on alerts whose text had to be changed before it could be stored.
const (
	flagTruncated   = "truncated"
	flagInvalidUTF8 = "invalid-utf8"
	flagNUL         = "nul-byte"
)

// webhookMessage is Alertmanager's webhook payload, version 4 (notify/webhook.Message in Alertmanager).
// It is declared here rather than imported: the upstream type lives in a package that pulls in all of
// Alertmanager's notifier stack, and we need eight fields.
type webhookMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []webhookAlert    `json:"alerts"`
}

type webhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// decodeError is a payload opsreview can never store as sent: answered 400 with its text.
type decodeError struct{ msg string }

func (e *decodeError) Error() string { return e.msg }

func badPayload(format string, a ...any) error { return &decodeError{fmt.Sprintf(format, a...)} }

// decodeWebhook turns a webhook body into a notification ready to store. Label and annotation text
// that Postgres cannot hold (NUL bytes, invalid UTF-8) or that is absurdly long is repaired and the
// alert flagged, so that the delivery is stored rather than retried for ever.
func decodeWebhook(body []byte, receivedAt time.Time, teamFor func(map[string]string) string) (store.Notification, error) {
	var m webhookMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return store.Notification{}, badPayload("malformed JSON: %s", jsonErrorText(err))
	}
	if dec.More() {
		return store.Notification{}, badPayload("malformed JSON: more than one value in the body")
	}
	if m.Version != "4" {
		return store.Notification{}, badPayload("unsupported webhook version %q: opsreview reads version \"4\"", m.Version)
	}
	if m.Receiver == "" {
		return store.Notification{}, badPayload("receiver: missing")
	}
	if m.Status != "firing" && m.Status != "resolved" {
		return store.Notification{}, badPayload("status: %q is neither firing nor resolved", m.Status)
	}
	if m.TruncatedAlerts < 0 {
		return store.Notification{}, badPayload("truncatedAlerts: negative")
	}
	n := store.Notification{
		Receiver:        clean(m.Receiver, nil),
		GroupKey:        clean(m.GroupKey, nil),
		Status:          m.Status,
		ExternalURL:     clean(m.ExternalURL, nil),
		GroupLabels:     cleanMap(m.GroupLabels, nil),
		TruncatedAlerts: m.TruncatedAlerts,
		ReceivedAt:      receivedAt,
		Alerts:          make([]review.AlertReport, 0, len(m.Alerts)),
	}
	invalid := invalidUTF8Alerts(body)
	for i, a := range m.Alerts {
		r, err := alertReport(a, receivedAt, teamFor)
		if err != nil {
			return store.Notification{}, badPayload("alerts[%d].%v", i, err)
		}
		if invalid[i] && !slices.Contains(r.Flags, flagInvalidUTF8) {
			r.Flags = append(r.Flags, flagInvalidUTF8)
		}
		n.Alerts = append(n.Alerts, r)
	}
	return n, nil
}

// invalidUTF8Alerts reports which alerts of a body carry bytes that are not UTF-8. encoding/json
// replaces such bytes with U+FFFD without a word, so clean never sees them: the raw alerts are checked
// instead, and only when the body as a whole is not UTF-8 (which Alertmanager never sends).
func invalidUTF8Alerts(body []byte) map[int]bool {
	if utf8.Valid(body) {
		return nil
	}
	var raw struct {
		Alerts []json.RawMessage `json:"alerts"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil
	}
	out := map[int]bool{}
	for i, a := range raw.Alerts {
		if !utf8.Valid(a) {
			out[i] = true
		}
	}
	return out
}

func alertReport(a webhookAlert, receivedAt time.Time, teamFor func(map[string]string) string) (review.AlertReport, error) {
	if a.Status != "firing" && a.Status != "resolved" {
		return review.AlertReport{}, fmt.Errorf("status: %q is neither firing nor resolved", a.Status)
	}
	if a.StartsAt.IsZero() {
		return review.AlertReport{}, errors.New("startsAt: missing")
	}
	if err := storableTime(a.StartsAt); err != nil {
		return review.AlertReport{}, fmt.Errorf("startsAt: %w", err)
	}
	if !a.EndsAt.IsZero() {
		if err := storableTime(a.EndsAt); err != nil {
			return review.AlertReport{}, fmt.Errorf("endsAt: %w", err)
		}
	}
	var flags []string
	labels := cleanMap(a.Labels, &flags)
	if labels["alertname"] == "" {
		return review.AlertReport{}, errors.New("labels: no alertname")
	}
	r := review.AlertReport{
		Fingerprint:  uint64(model.LabelSet(toLabelSet(labels)).Fingerprint()),
		Labels:       labels,
		Annotations:  cleanMap(a.Annotations, &flags),
		GeneratorURL: clean(a.GeneratorURL, &flags),
		StartsAt:     a.StartsAt.UTC(),
		ObservedAt:   receivedAt,
		Road:         review.RoadWebhook,
		Team:         teamFor(labels),
		Flags:        flags,
	}
	if a.Status == "firing" {
		// A firing alert's endsAt is when Alertmanager would consider it resolved if Prometheus went
		// quiet: an expiry, not an end.
		if !a.EndsAt.IsZero() {
			r.ExpiresAt = a.EndsAt.UTC()
		}
	} else {
		end := a.EndsAt.UTC()
		if a.EndsAt.IsZero() {
			end = receivedAt
		}
		r.EndsAt, r.EndKind = end, review.EndResolved
	}
	return r, nil
}

// Times opsreview stores: Postgres has no year 0, and the episode lists start at the Unix epoch and
// treat 9999 as the end of time.
var (
	minStorableTime = time.Unix(0, 0).UTC()
	maxStorableTime = time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// storableTime refuses a time that would fail in the store: storing it could never succeed, and a
// 5xx would make Alertmanager retry it for ever.
func storableTime(t time.Time) error {
	if t.Before(minStorableTime) || !t.Before(maxStorableTime) {
		return fmt.Errorf("%s is outside %d–%d", t.UTC().Format(time.RFC3339), minStorableTime.Year(), maxStorableTime.Year()-1)
	}
	return nil
}

func toLabelSet(m map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(m))
	for k, v := range m {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

func cleanMap(m map[string]string, flags *[]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[clean(k, flags)] = clean(v, flags)
	}
	return out
}

// clean makes s storable in Postgres text and jsonb, noting in flags what it had to change.
func clean(s string, flags *[]string) string {
	flag := func(f string) {
		if flags == nil {
			return
		}
		for _, have := range *flags {
			if have == f {
				return
			}
		}
		*flags = append(*flags, f)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		flag(flagInvalidUTF8)
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
		flag(flagNUL)
	}
	if len(s) > maxValueBytes {
		cut := maxValueBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
		flag(flagTruncated)
	}
	return s
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: cannot use a JSON %s as %s", te.Field, te.Value, te.Type)
	}
	return err.Error()
}
