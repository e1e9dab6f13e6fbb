package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"sort"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// baselineBatch bounds the hours recomputed at once (and so the samples read for them: the hours'
// span plus the weeks before it).
const baselineBatch = 2000

// upsertBaselinesSQL stores computed bands; unchanged bands are not rewritten.
const upsertBaselinesSQL = `
		INSERT INTO sli_baselines (sli_id, hour_start, hour_end, hour_of_week, samples, weeks, median, low, high)
		SELECT $1, timestamptz 'epoch' + hs * interval '1 microsecond', timestamptz 'epoch' + he * interval '1 microsecond',
		       hw, n, w, med, lo, hi
		FROM unnest($2::int8[], $3::int8[], $4::smallint[], $5::int[], $6::smallint[], $7::float8[], $8::float8[], $9::float8[])
		    AS b(hs, he, hw, n, w, med, lo, hi)
		ON CONFLICT (sli_id, hour_start) DO UPDATE SET
		    hour_end = EXCLUDED.hour_end, hour_of_week = EXCLUDED.hour_of_week,
		    samples = EXCLUDED.samples, weeks = EXCLUDED.weeks,
		    median = EXCLUDED.median, low = EXCLUDED.low, high = EXCLUDED.high
		WHERE (sli_baselines.hour_end, sli_baselines.hour_of_week, sli_baselines.samples, sli_baselines.weeks,
		       sli_baselines.median, sli_baselines.low, sli_baselines.high)
		      IS DISTINCT FROM (EXCLUDED.hour_end, EXCLUDED.hour_of_week, EXCLUDED.samples, EXCLUDED.weeks,
		       EXCLUDED.median, EXCLUDED.low, EXCLUDED.high)`

// refreshBaselines recomputes the baselines of the hour occurrences starting at hours (sorted)
// from the stored samples, in the transaction that stored them: per batch, one index range scan
// reads the values of every window at once (the same local hour in each earlier week; time zones
// are worked out in Go), review.BandOf computes each band, and one statement upserts them. Every
// hour gets a row, with no numbers when its windows hold too little.
func refreshBaselines(ctx context.Context, tx *sqlx.Tx, id int64, hours []time.Time, job BaselineJob) error {
	for len(hours) > 0 {
		n := min(len(hours), baselineBatch)
		if err := refreshBaselineBatch(ctx, tx, id, hours[:n], job); err != nil {
			return err
		}
		hours = hours[n:]
	}
	return nil
}

func refreshBaselineBatch(ctx context.Context, tx *sqlx.Tx, id int64, hours []time.Time, job BaselineJob) error {
	type hour struct {
		span    review.Span
		windows []review.Span
	}
	hs := make([]hour, len(hours))
	var lo, hi time.Time
	for i, h := range hours {
		span := review.HourSpan(h, job.Loc)
		hs[i] = hour{span: span, windows: review.BaselineWindows(span.From, job.Spec.Weeks, job.Loc)}
		for _, w := range hs[i].windows {
			if w.From.IsZero() {
				continue
			}
			if lo.IsZero() || w.From.Before(lo) {
				lo = w.From
			}
			if w.To.After(hi) {
				hi = w.To
			}
		}
	}
	// The values of every window as two arrays in one row: the times as microseconds after lo
	// (date_part of a short interval is an exact float8; extract's numeric costs several times
	// more), in index order, sorted here should the plan ever differ.
	var offs []int64
	var vals []float64
	if !lo.IsZero() {
		var offText, valText numberArray
		if err := tx.QueryRowxContext(ctx, `
			SELECT coalesce(array_agg(round(date_part('epoch', at - $2) * 1000000)::int8), '{}'),
			       coalesce(array_agg(value), '{}')
			FROM (SELECT at, value FROM sli_samples
			      WHERE sli_id = $1 AND at >= $2 AND at < $3 AND value IS NOT NULL
			      ORDER BY at) s`,
			id, lo, hi).Scan(&offText, &valText); err != nil {
			return fmt.Errorf("reading the samples of %d baselines: %w", len(hours), err)
		}
		var err1, err2 error
		offs, err1 = offText.ints()
		vals, err2 = valText.floats()
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("reading the samples of %d baselines: %w", len(hours), err)
		}
		if len(offs) != len(vals) {
			return fmt.Errorf("reading the samples of %d baselines: %d times for %d values", len(hours), len(offs), len(vals))
		}
		if !sort.SliceIsSorted(offs, func(i, j int) bool { return offs[i] < offs[j] }) {
			sort.Sort(byOffset{offs, vals})
		}
	}
	n := len(hs)
	hStart, hEnd := make([]int64, n), make([]int64, n)
	hWeek, hSamples, hWeeks := make([]int64, n), make([]int64, n), make([]int64, n)
	med, low, high, known := make([]float64, n), make([]float64, n), make([]float64, n), make([]bool, n)
	perWeek := make([][]float64, job.Spec.Weeks)
	for i, h := range hs {
		for k, w := range h.windows {
			perWeek[k] = nil
			if w.From.IsZero() {
				continue
			}
			a, b := micros(w.From)-micros(lo), micros(w.To)-micros(lo)
			first := sort.Search(len(offs), func(j int) bool { return offs[j] >= a })
			last := sort.Search(len(offs), func(j int) bool { return offs[j] >= b })
			perWeek[k] = vals[first:last]
		}
		band := review.BandOf(h.span.From, job.Loc, perWeek, job.Spec)
		hStart[i], hEnd[i] = micros(h.span.From), micros(h.span.To)
		hWeek[i], hSamples[i], hWeeks[i] = int64(band.HourOfWeek), int64(band.Samples), int64(band.Weeks)
		if known[i] = band.Known(); known[i] {
			med[i], low[i], high[i] = *band.Median, *band.Low, *band.High
		}
	}
	_, err := tx.ExecContext(ctx, upsertBaselinesSQL, id, int8Array(hStart), int8Array(hEnd), int8Array(hWeek),
		int8Array(hSamples), int8Array(hWeeks), float8Array(med, known), float8Array(low, known), float8Array(high, known))
	if err != nil {
		return fmt.Errorf("storing %d baselines: %w", len(hours), err)
	}
	return nil
}

// byOffset sorts sample times and values together.
type byOffset struct {
	offs []int64
	vals []float64
}

func (b byOffset) Len() int           { return len(b.offs) }
func (b byOffset) Less(i, j int) bool { return b.offs[i] < b.offs[j] }
func (b byOffset) Swap(i, j int) {
	b.offs[i], b.offs[j] = b.offs[j], b.offs[i]
	b.vals[i], b.vals[j] = b.vals[j], b.vals[i]
}

// micros is t in microseconds since the Unix epoch, Postgres's resolution.
func micros(t time.Time) int64 { return t.UnixMicro() }

// rebuildBaselines recomputes every baseline the SLI's stored samples feed, after the baseline
// parameters changed.
func rebuildBaselines(ctx context.Context, tx *sqlx.Tx, id int64, job BaselineJob) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sli_baselines WHERE sli_id = $1`, id); err != nil {
		return fmt.Errorf("clearing baselines: %w", err)
	}
	var first, last sql.NullTime
	if err := tx.QueryRowxContext(ctx, `
		SELECT min(at), max(at) FROM sli_samples WHERE sli_id = $1 AND value IS NOT NULL`, id).Scan(&first, &last); err != nil {
		return fmt.Errorf("reading the sample range: %w", err)
	}
	if !first.Valid {
		return nil
	}
	return refreshBaselines(ctx, tx, id, review.AffectedHours(first.Time, last.Time, job.Spec.Weeks, job.Loc), job)
}

// RebuildBaselines recomputes every baseline of the SLI from its stored samples.
func (s *Store) RebuildBaselines(ctx context.Context, id int64, job BaselineJob) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return rebuildBaselines(ctx, tx, id, job) })
}

type bandRow struct {
	Name       string          `db:"name"`
	HourStart  time.Time       `db:"hour_start"`
	HourEnd    time.Time       `db:"hour_end"`
	HourOfWeek int             `db:"hour_of_week"`
	Samples    int             `db:"samples"`
	Weeks      int             `db:"weeks"`
	Median     sql.NullFloat64 `db:"median"`
	Low        sql.NullFloat64 `db:"low"`
	High       sql.NullFloat64 `db:"high"`
}

func (r bandRow) band() review.Band {
	b := review.Band{HourStart: r.HourStart.UTC(), HourOfWeek: r.HourOfWeek, Samples: r.Samples, Weeks: r.Weeks}
	if r.Median.Valid && r.Low.Valid && r.High.Valid {
		m, l, h := r.Median.Float64, r.Low.Float64, r.High.Float64
		b.Median, b.Low, b.High = &m, &l, &h
	}
	return b
}

// SLISeries is one SLI's samples over a window with the band of each sample's hour, and the bands
// of every hour of the window that has one.
type SLISeries struct {
	Points []review.Point
	Bands  []review.Band
	Ends   []time.Time // Ends[i] is the end of Bands[i]'s hour
}

// BandAt returns the band of the hour that contains t, or an empty band.
func (s SLISeries) BandAt(t time.Time) review.Band {
	for i, b := range s.Bands {
		if !t.Before(b.HourStart) && t.Before(s.Ends[i]) {
			return b
		}
	}
	return review.Band{}
}

type sampleRow struct {
	Name  string          `db:"name"`
	At    time.Time       `db:"at"`
	Value sql.NullFloat64 `db:"value"`
}

// SLISeries reads the samples (gaps included) and bands of the named SLIs over [from, to], by
// name, in two statements however many SLIs are asked for. An SLI with no stored rows is absent.
func (s *Store) SLISeries(ctx context.Context, names []string, from, to time.Time) (map[string]*SLISeries, error) {
	var bands []bandRow
	var samples []sampleRow
	err := s.readTx(ctx, func(tx *sqlx.Tx) error {
		// One index range scan per SLI (LATERAL, OFFSET 0): with hundreds of names the planner
		// would otherwise read the whole samples table.
		if err := tx.SelectContext(ctx, &bands, `
			SELECT l.name, b.hour_start, b.hour_end, b.hour_of_week, b.samples, b.weeks, b.median, b.low, b.high
			FROM slis l
			CROSS JOIN LATERAL (
			    SELECT * FROM sli_baselines b
			    WHERE b.sli_id = l.id AND b.hour_end > $2 AND b.hour_start <= $3
			      -- an hour spans two at most (DST): this keeps the index range tight
			      AND b.hour_start > $2::timestamptz - interval '3 hours'
			    OFFSET 0
			) b
			WHERE l.name = ANY($1)
			ORDER BY l.name, b.hour_start`, pq.Array(names), from, to); err != nil {
			return fmt.Errorf("reading baselines: %w", err)
		}
		if err := tx.SelectContext(ctx, &samples, `
			SELECT l.name, s.at, s.value
			FROM slis l
			CROSS JOIN LATERAL (
			    SELECT at, value FROM sli_samples s
			    WHERE s.sli_id = l.id AND s.at >= $2 AND s.at <= $3
			    OFFSET 0
			) s
			WHERE l.name = ANY($1)
			ORDER BY l.name, s.at`, pq.Array(names), from, to); err != nil {
			return fmt.Errorf("reading samples: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string]*SLISeries{}
	get := func(name string) *SLISeries {
		if out[name] == nil {
			out[name] = &SLISeries{}
		}
		return out[name]
	}
	for _, b := range bands {
		ser := get(b.Name)
		ser.Bands = append(ser.Bands, b.band())
		ser.Ends = append(ser.Ends, b.HourEnd.UTC())
	}
	// Both lists are sorted by name and time: walk the bands alongside the samples.
	bi := 0
	for i, r := range samples {
		ser := get(r.Name)
		if i == 0 || samples[i-1].Name != r.Name {
			bi = 0
		}
		p := review.Point{Sample: review.Sample{At: r.At.UTC(), Value: r.Value.Float64, Gap: !r.Value.Valid}}
		for bi < len(ser.Bands) && !r.At.Before(ser.Ends[bi]) {
			bi++
		}
		if bi < len(ser.Bands) && !r.At.Before(ser.Bands[bi].HourStart) {
			p.Band = ser.Bands[bi]
		}
		ser.Points = append(ser.Points, p)
	}
	return out, nil
}

// readTx runs fn in a read-only transaction on the read pool with JIT off: the planner's estimates
// for these range reads are pessimistic enough to JIT-compile them, which costs more than the read.
func (s *Store) readTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.read.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
		return classify(fmt.Errorf("turning JIT off: %w", err))
	}
	if err := fn(tx); err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}
