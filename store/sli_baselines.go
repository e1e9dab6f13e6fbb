package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

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

// SLISeries reads the samples (gaps included) and bands of the named SLIs over [from, to], by
// name, in two statements however many SLIs are asked for. An SLI with no stored rows is absent.
//
// A page over every SLI reads a few hundred thousand samples: they are scanned by hand, each row
// an SLI's index in names and the time as Unix seconds (a number is much cheaper to decode than a
// timestamp's text), without the reflection of sqlx, and arrive in each SLI's index order.
func (s *Store) SLISeries(ctx context.Context, names []string, from, to time.Time) (map[string]*SLISeries, error) {
	return s.sliSeries(ctx, names, from, to, true)
}

// SLIBands reads what SLISeries does without the samples: the bands of every hour of [from, to]
// that has one (Points is empty). A week of every SLI's bands is 84,000 rows, its samples a million.
func (s *Store) SLIBands(ctx context.Context, names []string, from, to time.Time) (map[string]*SLISeries, error) {
	return s.sliSeries(ctx, names, from, to, false)
}

func (s *Store) sliSeries(ctx context.Context, names []string, from, to time.Time, samples bool) (map[string]*SLISeries, error) {
	var out map[string]*SLISeries
	err := s.readTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		out, err = readSLISeries(ctx, tx, names, from, to, samples)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readSLISeries is sliSeries in the caller's transaction.
func readSLISeries(ctx context.Context, tx *sqlx.Tx, names []string, from, to time.Time, samples bool) (map[string]*SLISeries, error) {
	out := map[string]*SLISeries{}
	get := func(i int64) *SLISeries {
		name := names[i-1]
		if out[name] == nil {
			out[name] = &SLISeries{}
		}
		return out[name]
	}
	err := func() error {
		// One index range scan per SLI (LATERAL, OFFSET 0): with hundreds of names the planner
		// would otherwise read the whole samples table.
		rows, err := tx.QueryContext(ctx, `
			SELECT n.i, date_part('epoch', b.hour_start), date_part('epoch', b.hour_end), b.hour_of_week,
			       b.samples, b.weeks, b.median, b.low, b.high
			FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i)
			JOIN slis l ON l.name = n.name
			CROSS JOIN LATERAL (
			    SELECT * FROM sli_baselines b
			    WHERE b.sli_id = l.id AND b.hour_end > $2 AND b.hour_start <= $3
			      -- an hour spans two at most (DST): this keeps the index range tight
			      AND b.hour_start > $2::timestamptz - interval '3 hours'
			    ORDER BY b.hour_start
			    OFFSET 0
			) b`, pq.Array(names), from, to)
		if err != nil {
			return fmt.Errorf("reading baselines: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				i              int64
				start, end     float64
				b              review.Band
				med, low, high sql.NullFloat64
			)
			if err := rows.Scan(&i, &start, &end, &b.HourOfWeek, &b.Samples, &b.Weeks, &med, &low, &high); err != nil {
				return fmt.Errorf("reading baselines: %w", err)
			}
			b.HourStart = unixTime(start)
			if med.Valid && low.Valid && high.Valid {
				b.Median, b.Low, b.High = &med.Float64, &low.Float64, &high.Float64
			}
			ser := get(i)
			ser.Bands = append(ser.Bands, b)
			ser.Ends = append(ser.Ends, unixTime(end))
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading baselines: %w", err)
		}
		if !samples {
			return nil
		}
		// One row per SLI, its times and values as two arrays: per-row decoding is most of the
		// cost of reading a few hundred thousand samples.
		rows, err = tx.QueryContext(ctx, `
			SELECT n.i, a.ats, a.vals
			FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i)
			JOIN slis l ON l.name = n.name
			CROSS JOIN LATERAL (
			    SELECT array_agg(date_part('epoch', s.at)) AS ats, array_agg(s.value) AS vals
			    FROM (SELECT at, value FROM sli_samples s
			          WHERE s.sli_id = l.id AND s.at >= $2 AND s.at <= $3
			          ORDER BY s.at OFFSET 0) s
			) a
			WHERE a.ats IS NOT NULL`, pq.Array(names), from, to)
		if err != nil {
			return fmt.Errorf("reading samples: %w", err)
		}
		defer rows.Close()
		var (
			i         int64
			ats, vals sql.RawBytes
		)
		for rows.Next() {
			if err := rows.Scan(&i, &ats, &vals); err != nil {
				return fmt.Errorf("reading samples: %w", err)
			}
			ser := get(i)
			if err := eachFloat(ats, func(_ int, v float64, null bool) {
				ser.Points = append(ser.Points, review.Point{Sample: review.Sample{At: unixTime(v), Gap: true}})
			}); err != nil {
				return fmt.Errorf("reading sample times: %w", err)
			}
			if err := eachFloat(vals, func(k int, v float64, null bool) {
				if k < len(ser.Points) && !null {
					ser.Points[k].Value, ser.Points[k].Gap = v, false
				}
			}); err != nil {
				return fmt.Errorf("reading sample values: %w", err)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading samples: %w", err)
		}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	for _, ser := range out {
		ser.sort()
		// Both lists are in time order: walk the bands alongside the samples.
		bi := 0
		for k := range ser.Points {
			p := &ser.Points[k]
			for bi < len(ser.Bands) && !p.At.Before(ser.Ends[bi]) {
				bi++
			}
			if bi < len(ser.Bands) && !p.At.Before(ser.Bands[bi].HourStart) {
				p.Band = ser.Bands[bi]
			}
		}
	}
	return out, nil
}

// Since returns the part of the series a read from from on would have given: the samples at or
// after from and the bands of the hours ending after it. The slices are shared, not copied.
func (s *SLISeries) Since(from time.Time) *SLISeries {
	p := sort.Search(len(s.Points), func(i int) bool { return !s.Points[i].At.Before(from) })
	b := sort.Search(len(s.Ends), func(i int) bool { return s.Ends[i].After(from) })
	return &SLISeries{Points: s.Points[p:], Bands: s.Bands[b:], Ends: s.Ends[b:]}
}

// sort puts the series in time order should the rows have come in another (the statements order
// each SLI's rows, but not the SLIs' interleaving: that costs a sort of every row).
func (s *SLISeries) sort() {
	if !sort.SliceIsSorted(s.Points, func(i, j int) bool { return s.Points[i].At.Before(s.Points[j].At) }) {
		sort.SliceStable(s.Points, func(i, j int) bool { return s.Points[i].At.Before(s.Points[j].At) })
	}
	less := func(i, j int) bool { return s.Bands[i].HourStart.Before(s.Bands[j].HourStart) }
	if !sort.SliceIsSorted(s.Bands, less) {
		idx := make([]int, len(s.Bands))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return s.Bands[idx[a]].HourStart.Before(s.Bands[idx[b]].HourStart) })
		bands, ends := make([]review.Band, len(idx)), make([]time.Time, len(idx))
		for k, i := range idx {
			bands[k], ends[k] = s.Bands[i], s.Ends[i]
		}
		s.Bands, s.Ends = bands, ends
	}
}

// unixTime turns date_part('epoch', t) back into t, in UTC, to the microsecond Postgres keeps.
func unixTime(sec float64) time.Time {
	whole := math.Floor(sec)
	return time.Unix(int64(whole), int64(math.Round((sec-whole)*1e6))*1e3).UTC()
}

// readTx runs fn's reads in one read-only transaction on the read pool (whose connections, like
// every one of the store's, start without JIT: sessionSettings).
func (s *Store) readTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.read.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}
