package client

import (
	"context"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "modelcatalog/gen/go/modelcatalog/v1"
)

// ModelWatch is a WatchModels stream that survives reconnects: it keeps the model_version
// of every model its events hold and the last resume token, and a reconnect sends both.
// Make one with NewModelWatch and run it with Run; KnownVersions and ResumeToken may be
// read at any time, from any goroutine.
type ModelWatch struct {
	// InitialBackoff is the wait before the first reconnect (default 200ms); it doubles
	// with every reconnect that got no event, up to MaxBackoff (default 5s).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration

	client pb.ModelCatalogServiceClient
	filter string
	view   pb.ModelView

	mu       sync.Mutex
	versions map[string]string
	token    string
}

// NewModelWatch prepares a watch of req's Filter (AIP-160; empty: every model) in req's View
// (MODEL_VIEW_BASIC, or FULL, the default), starting from req's ResumeToken and
// KnownVersions (model id -> model_version, e.g. saved from an earlier watch's
// KnownVersions) when the caller already holds models. req is not kept or modified.
func NewModelWatch(c pb.ModelCatalogServiceClient, req *pb.WatchModelsRequest) *ModelWatch {
	w := &ModelWatch{
		InitialBackoff: 200 * time.Millisecond,
		MaxBackoff:     5 * time.Second,
		client:         c,
		filter:         req.GetFilter(),
		view:           req.GetView(),
		token:          req.GetResumeToken(),
		versions:       make(map[string]string, len(req.GetKnownVersions())),
	}
	for id, version := range req.GetKnownVersions() {
		w.versions[id] = version
	}
	return w
}

// WatchModels runs NewModelWatch(c, req) (see Run): fn gets every event.
func WatchModels(ctx context.Context, c pb.ModelCatalogServiceClient, req *pb.WatchModelsRequest,
	fn func(*pb.WatchModelsResponse) error) error {
	return NewModelWatch(c, req).Run(ctx, fn)
}

// KnownVersions returns a copy of model id -> model_version of the models the events so far
// hold: INITIAL, ADDED and CHANGED set an id's version, REMOVED drops it, a resync replaces
// them all.
func (w *ModelWatch) KnownVersions() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]string, len(w.versions))
	for id, version := range w.versions {
		out[id] = version
	}
	return out
}

// ResumeToken is the token a reconnect sends ("" when there is none).
func (w *ModelWatch) ResumeToken() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.token
}

// Run watches until ctx ends (it returns ctx.Err()), fn returns an error (it returns that
// error), the server ends the stream without an error (nil) or with a code other than
// UNAVAILABLE (that status: INVALID_ARGUMENT for a filter that does not parse or a version
// that is not 16 hexadecimal digits). fn gets every event, in order, on Run's goroutine.
//
// A stream that ends with UNAVAILABLE (a server restarting or killed, a lost connection, a
// replica shutting down) is opened again, with the resume token and the versions held. The
// replica that sent the token replays exactly what was missed; any other replica (or one
// that no longer retains the changes) sends only what differs from the versions: ADDED,
// CHANGED and REMOVED events, then the marker, with no repeated INITIAL events and no
// resync. A stream with neither starts with INITIAL events; one whose events have Resync set
// replaces everything the caller held.
func (w *ModelWatch) Run(ctx context.Context, fn func(*pb.WatchModelsResponse) error) error {
	backoff := w.InitialBackoff
	for {
		got, fromFn, err := w.stream(ctx, fn)
		if fromFn {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if status.Code(err) != codes.Unavailable {
			return err
		}
		if got {
			backoff = w.InitialBackoff
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		if backoff *= 2; backoff > w.MaxBackoff {
			backoff = w.MaxBackoff
		}
	}
}

// stream runs one stream; it says whether any event came, whether fn ended it, and how it
// ended (nil: the server ended it without an error).
func (w *ModelWatch) stream(ctx context.Context, fn func(*pb.WatchModelsResponse) error) (got, fromFn bool,
	err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w.mu.Lock()
	req := &pb.WatchModelsRequest{Filter: w.filter, View: w.view, ResumeToken: w.token,
		KnownVersions: make(map[string]string, len(w.versions))}
	for id, version := range w.versions {
		req.KnownVersions[id] = version
	}
	w.mu.Unlock()
	stream, err := w.client.WatchModels(ctx, req)
	if err != nil {
		return false, false, err
	}
	replacing := false
	for {
		event, err := stream.Recv()
		if err == io.EOF {
			return got, false, nil
		}
		if err != nil {
			return got, false, err
		}
		got = true
		replacing = w.apply(event, replacing)
		if err := fn(event); err != nil {
			return got, true, err
		}
	}
}

func isStateEvent(t pb.WatchEventType) bool {
	switch t {
	case pb.WatchEventType_WATCH_EVENT_TYPE_INITIAL, pb.WatchEventType_WATCH_EVENT_TYPE_ADDED,
		pb.WatchEventType_WATCH_EVENT_TYPE_CHANGED, pb.WatchEventType_WATCH_EVENT_TYPE_REMOVED:
		return true
	}
	return false
}

// apply updates the versions and the token from one event; it returns whether the stream's
// state is (still) replacing everything held.
func (w *ModelWatch) apply(e *pb.WatchModelsResponse, replacing bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !replacing && (e.GetType() == pb.WatchEventType_WATCH_EVENT_TYPE_INITIAL || e.GetResync()) {
		// INITIAL events are the whole state, as are the events of a resync (a resync of no
		// models is its marker alone): the first of them replaces what was held.
		w.versions = map[string]string{}
		replacing = true
	}
	switch {
	case e.GetType() == pb.WatchEventType_WATCH_EVENT_TYPE_REMOVED:
		delete(w.versions, e.GetModelId())
	case isStateEvent(e.GetType()) && e.GetModelVersion() != "":
		w.versions[e.GetModelId()] = e.GetModelVersion()
	}
	if e.GetResumeToken() != "" {
		w.token = e.GetResumeToken()
	} else if isStateEvent(e.GetType()) {
		// A state the token does not lead to (a start, or what differs from the versions
		// held): replaying from the token could repeat or undo it, while the versions say
		// exactly where the caller stands.
		w.token = ""
	}
	return replacing
}
