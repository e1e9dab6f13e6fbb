package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// Notification is one delivery of a group of alerts to a receiver, as the webhook received it.
type Notification struct {
	Receiver        string
	GroupKey        string
	Status          string // firing or resolved
	ExternalURL     string
	GroupLabels     map[string]string
	TruncatedAlerts int
	ReceivedAt      time.Time
	Alerts          []review.AlertReport
}

// NotificationResult says what storing a notification did.
type NotificationResult struct {
	ID        int64
	Duplicate bool // a retry or replica copy of a notification already stored
	Episodes  int  // distinct episodes the notification carries
	// NewEpisodes counts episodes this notification is now the first firing notification of, for its
	// receiver: more than zero makes it a page when the receiver pages.
	NewEpisodes int
}

// IngestNotification stores a webhook delivery in one transaction and a constant number of
// statements: its alerts join or open episodes, the notification is recorded once however often it is
// delivered, and each episode remembers the first firing notification its receiver got of it.
//
// Five statements, however many alerts: lock the fingerprints (and read the rules' evaluation
// intervals), read their episodes, write the episodes, record the notification with its links,
// record first notifications; each prepared once per connection.
//
// A delivery whose exact content is already stored (a retry, or a clustered replica's copy) is
// only counted, by the first statement, which then takes none of the fingerprint locks: replaying
// it would change nothing, and under a burst the copies would otherwise queue behind the
// original's locks holding a connection each.
//
// Deliveries of one group (receiver and group key) take their turn in this process before they
// take a connection, so copies arriving together do not hold the pool while waiting for each other.
func (s *Store) IngestNotification(ctx context.Context, n Notification) (NotificationResult, error) {
	unlock, err := s.groups.lock(ctx, n.Receiver+"\x00"+n.GroupKey)
	if err != nil {
		return NotificationResult{}, fmt.Errorf("waiting for another delivery of group %q: %w", n.GroupKey, err)
	}
	defer unlock()
	pk := payloadKey(n)
	if err := s.stmts.prepare(ctx, s.db, ingestQueries...); err != nil {
		return NotificationResult{}, err
	}
	var res NotificationResult
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		t := preparedTx{tx, s.stmts}
		ids, rep, err := ingestEpisodes(ctx, t, n.Alerts, &repeatCheck{payloadKey: pk, receivedAt: n.ReceivedAt})
		if err != nil {
			return err
		}
		if rep != nil {
			res = NotificationResult{ID: rep.id, Duplicate: true, Episodes: rep.episodes}
			return nil
		}
		res, err = recordNotification(ctx, t, n, ids, pk)
		return err
	})
	return res, err
}

// payloadKey hashes what a delivery says: receiver, group, status, how many alerts were left out,
// and each alert's fingerprint, labels, annotations, generator URL, times and flags, in a stable
// order. Two deliveries with the same key would leave the same stored state.
func payloadKey(n Notification) []byte {
	h := sha256.New()
	str := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	for _, s := range []string{n.Receiver, n.GroupKey, n.Status} {
		str(s)
	}
	fmt.Fprintf(h, "%d|%d|", n.TruncatedAlerts, len(n.Alerts))
	order := make([]int, len(n.Alerts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := n.Alerts[order[i]], n.Alerts[order[j]]
		if a.Fingerprint != b.Fingerprint {
			return a.Fingerprint < b.Fingerprint
		}
		return a.StartsAt.Before(b.StartsAt)
	})
	ts := func(t time.Time) { fmt.Fprintf(h, "%d|", t.Truncate(time.Microsecond).UnixMicro()) }
	for _, i := range order {
		a := n.Alerts[i]
		fmt.Fprintf(h, "%d|%d|%s|", a.Fingerprint, a.EndKind, a.Team)
		ts(a.StartsAt)
		ts(a.EndsAt)
		ts(a.ExpiresAt)
		str(jsonText(a.Labels))
		str(jsonText(a.Annotations))
		str(a.GeneratorURL)
		str(jsonText(a.Flags))
	}
	return h.Sum(nil)
}

type carried struct {
	episode int64
	status  string
}

// recordNotificationQuery stores a notification and links it to the episodes it carries, in one
// statement; a copy already stored (same dedup key) is counted as one more delivery and links nothing.
const recordNotificationQuery = `
	WITH note AS (
	    INSERT INTO notifications (dedup_key, receiver, group_key, group_key_hash, status, received_at,
	                               last_received_at, alerts, truncated_alerts, external_url, group_labels, sent_at,
	                               payload_key)
	    VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12)
	    ON CONFLICT (dedup_key) DO UPDATE
	    SET deliveries = notifications.deliveries + 1,
	        received_at = least(notifications.received_at, EXCLUDED.received_at),
	        last_received_at = greatest(notifications.last_received_at, EXCLUDED.last_received_at)
	    RETURNING id, (xmax = 0) AS inserted
	), links AS (
	    INSERT INTO notification_episodes (notification_id, episode_id, alert_status)
	    SELECT note.id, u.e, u.s FROM note, unnest($13::bigint[], $14::text[]) AS u(e, s)
	    WHERE note.inserted
	)
	SELECT id, inserted FROM note`

// firstNotificationsQuery makes a firing notification the first of its episodes to its receiver
// where it was sent before the one recorded, and counts them.
const firstNotificationsQuery = `
	WITH up AS (
	    INSERT INTO receiver_episodes (receiver, episode_id, first_notification_id, first_sent_at, first_dedup_key,
	                                   team, alertname, received_at)
	    SELECT $1, e.id, $2, $3, $4, e.team, e.alertname, $6
	    FROM unnest($5::bigint[]) AS u(id)
	    JOIN episodes e ON e.id = u.id
	    ON CONFLICT (receiver, episode_id) DO UPDATE
	    SET first_notification_id = EXCLUDED.first_notification_id,
	        first_sent_at = EXCLUDED.first_sent_at,
	        first_dedup_key = EXCLUDED.first_dedup_key,
	        received_at = EXCLUDED.received_at
	    WHERE (EXCLUDED.first_sent_at, EXCLUDED.first_dedup_key)
	        < (receiver_episodes.first_sent_at, receiver_episodes.first_dedup_key)
	    RETURNING 1
	)
	SELECT count(*) FROM up`

func recordNotification(ctx context.Context, t preparedTx, n Notification, ids ingested, payloadKey []byte) (NotificationResult, error) {
	status := map[int64]string{}
	var sentAt time.Time
	for i, r := range n.Alerts {
		if ids[i] == 0 {
			continue
		}
		st := "resolved"
		if r.Firing() {
			st = "firing"
		}
		if prev, ok := status[ids[i]]; !ok || st == "firing" && prev != "firing" {
			status[ids[i]] = st
		}
		t := r.StartsAt
		if !r.Firing() && r.EndsAt.After(t) {
			t = r.EndsAt
		}
		if t.After(sentAt) {
			sentAt = t
		}
	}
	if sentAt.IsZero() {
		sentAt = n.ReceivedAt
	}
	eps := make([]carried, 0, len(status))
	for id, st := range status {
		eps = append(eps, carried{id, st})
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].episode < eps[j].episode })
	key := dedupKey(n, eps)
	groupHash := sha256.Sum256([]byte(n.GroupKey))

	epIDs := make([]int64, len(eps))
	sts := make([]string, len(eps))
	for i, c := range eps {
		epIDs[i], sts[i] = c.episode, c.status
	}
	// The notification and its links in one statement; a copy already stored (same dedup key) is
	// counted as one more delivery and links nothing.
	var row struct {
		ID       int64 `db:"id"`
		Inserted bool  `db:"inserted"`
	}
	err := t.get(ctx, &row, recordNotificationQuery,
		key, n.Receiver, n.GroupKey, groupHash[:], n.Status, n.ReceivedAt, len(n.Alerts), n.TruncatedAlerts,
		n.ExternalURL, jsonText(n.GroupLabels), sentAt, payloadKey, int64s(epIDs), pq.Array(sts))
	if err != nil {
		return NotificationResult{}, fmt.Errorf("recording notification: %w", err)
	}
	res := NotificationResult{ID: row.ID, Duplicate: !row.Inserted, Episodes: len(eps)}
	if !row.Inserted || len(eps) == 0 {
		return res, nil
	}
	if n.Status != "firing" {
		return res, nil
	}
	// The first firing notification of an episode to a receiver is decided by what the notifications
	// carry (sent_at, then dedup key), not by arrival order, so shuffled replays agree.
	var firing []int64
	for _, c := range eps {
		if c.status == "firing" {
			firing = append(firing, c.episode)
		}
	}
	err = t.get(ctx, &res.NewEpisodes, firstNotificationsQuery,
		n.Receiver, row.ID, sentAt, key, int64s(firing), n.ReceivedAt)
	if err != nil {
		return res, fmt.Errorf("recording first notifications: %w", err)
	}
	return res, nil
}

// dedupKey identifies a notification by receiver, group, status and the episodes it carries, so a
// retry or a replica's copy of it is recognised however its alerts' timestamps differ.
func dedupKey(n Notification, eps []carried) []byte {
	h := sha256.New()
	for _, s := range []string{n.Receiver, n.GroupKey, n.Status} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	var b [8]byte
	for _, c := range eps {
		binary.BigEndian.PutUint64(b[:], uint64(c.episode))
		h.Write(b[:])
		h.Write([]byte(c.status[:1]))
	}
	return h.Sum(nil)
}

// NotificationCounts are totals for /metrics and tests.
type NotificationCounts struct {
	Notifications int64 `db:"notifications"`
	Deliveries    int64 `db:"deliveries"`
	Episodes      int64 `db:"episodes"`
}

// CountNotifications returns how many notifications and deliveries are stored.
func (s *Store) CountNotifications(ctx context.Context) (NotificationCounts, error) {
	var c NotificationCounts
	err := s.read.GetContext(ctx, &c, `
		SELECT count(*) AS notifications, coalesce(sum(deliveries), 0) AS deliveries,
		       (SELECT count(*) FROM episodes) AS episodes
		FROM notifications`)
	if err != nil {
		return c, classify(fmt.Errorf("counting notifications: %w", err))
	}
	return c, nil
}
