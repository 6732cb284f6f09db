package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"modelcatalog/client"
	pb "modelcatalog/gen/go/modelcatalog/v1"
)

const (
	v1 = "00000000000000a1"
	v2 = "00000000000000a2"
)

// held: the stream stays open until the client cancels it.
const held = codes.Code(1000)

// scriptedStream is what one stream of the scripted server sends, and how it ends.
type scriptedStream struct {
	events []*pb.WatchModelsResponse
	end    codes.Code
}

// scriptedCatalog is an in-process server whose every WatchModels stream plays the next
// entry of its script; it records every request, so a test sees what each reconnect carried.
type scriptedCatalog struct {
	pb.UnimplementedModelCatalogServiceServer
	mu        sync.Mutex
	script    []scriptedStream
	requests  []*pb.WatchModelsRequest
	cancelled chan struct{}
}

func (s *scriptedCatalog) WatchModels(req *pb.WatchModelsRequest, stream pb.ModelCatalogService_WatchModelsServer) error {
	s.mu.Lock()
	s.requests = append(s.requests, proto.Clone(req).(*pb.WatchModelsRequest))
	if len(s.script) == 0 {
		s.mu.Unlock()
		return status.Error(codes.FailedPrecondition, "the script is over")
	}
	next := s.script[0]
	s.script = s.script[1:]
	s.mu.Unlock()
	for _, e := range next.events {
		if err := stream.Send(e); err != nil {
			return err
		}
	}
	switch next.end {
	case held:
		<-stream.Context().Done()
		close(s.cancelled)
		return nil
	case codes.OK:
		return nil
	}
	return status.Errorf(next.end, "scripted %s", next.end)
}

func (s *scriptedCatalog) sent() [][2]interface{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][2]interface{}
	for _, r := range s.requests {
		out = append(out, [2]interface{}{r.GetResumeToken(), r.GetKnownVersions()})
	}
	return out
}

func serveScript(t *testing.T, script ...scriptedStream) (*scriptedCatalog, pb.ModelCatalogServiceClient) {
	t.Helper()
	fake := &scriptedCatalog{script: script, cancelled: make(chan struct{})}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	pb.RegisterModelCatalogServiceServer(server, fake)
	go server.Serve(listener)
	t.Cleanup(server.Stop)
	conn, err := client.Dial(context10s(t), listener.Addr().String(), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return fake, pb.NewModelCatalogServiceClient(conn)
}

func event(t pb.WatchEventType, id, version, token string, resync bool) *pb.WatchModelsResponse {
	e := &pb.WatchModelsResponse{Type: t, ModelId: id, ModelVersion: version, ResumeToken: token, Resync: resync}
	if id != "" {
		e.Model = &pb.Model{Id: id}
	}
	return e
}

var (
	initial  = pb.WatchEventType_WATCH_EVENT_TYPE_INITIAL
	marker   = pb.WatchEventType_WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE
	added    = pb.WatchEventType_WATCH_EVENT_TYPE_ADDED
	changed  = pb.WatchEventType_WATCH_EVENT_TYPE_CHANGED
	removed  = pb.WatchEventType_WATCH_EVENT_TYPE_REMOVED
	progress = pb.WatchEventType_WATCH_EVENT_TYPE_PROGRESS
)

func TestWatchModelsReconnectsWithTheTokenAndTheVersionsHeld(t *testing.T) {
	fake, c := serveScript(t,
		// A fresh start, then a live change; the replica goes away.
		scriptedStream{[]*pb.WatchModelsResponse{event(initial, "a", v1, "", false), event(initial, "b", v1, "", false),
			event(marker, "", "", "t1", false), event(changed, "a", v2, "t2", false)}, codes.Unavailable},
		// Another replica: what differs from the versions held, without tokens, then its marker.
		scriptedStream{[]*pb.WatchModelsResponse{event(removed, "b", "", "", false), event(added, "c", v1, "", false),
			event(marker, "", "", "t3", false)}, codes.Unavailable},
		scriptedStream{[]*pb.WatchModelsResponse{event(progress, "", "", "t4", false), event(changed, "c", v2, "t5", false)},
			codes.InvalidArgument})
	w := client.NewModelWatch(c, &pb.WatchModelsRequest{Filter: "capabilities.output:image", View: pb.ModelView_MODEL_VIEW_BASIC})
	w.InitialBackoff = time.Millisecond
	var seen []string
	err := w.Run(context10s(t), func(e *pb.WatchModelsResponse) error {
		seen = append(seen, fmt.Sprintf("%s %s %v %q", strings.TrimPrefix(e.GetType().String(), "WATCH_EVENT_TYPE_"),
			e.GetModelId(), w.KnownVersions(), w.ResumeToken()))
		return nil
	})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Run: %v, want the scripted INVALID_ARGUMENT", err)
	}
	want := []string{
		`INITIAL a map[a:` + v1 + `] ""`,
		`INITIAL b map[a:` + v1 + ` b:` + v1 + `] ""`,
		`INITIAL_STATE_COMPLETE  map[a:` + v1 + ` b:` + v1 + `] "t1"`,
		`CHANGED a map[a:` + v2 + ` b:` + v1 + `] "t2"`,
		// t2 leads elsewhere than the state these events make: only the versions tell it.
		`REMOVED b map[a:` + v2 + `] ""`,
		`ADDED c map[a:` + v2 + ` c:` + v1 + `] ""`,
		`INITIAL_STATE_COMPLETE  map[a:` + v2 + ` c:` + v1 + `] "t3"`,
		`PROGRESS  map[a:` + v2 + ` c:` + v1 + `] "t4"`,
		`CHANGED c map[a:` + v2 + ` c:` + v2 + `] "t5"`,
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
	wantSent := [][2]interface{}{
		{"", map[string]string{}},
		{"t2", map[string]string{"a": v2, "b": v1}},
		{"t3", map[string]string{"a": v2, "c": v1}},
	}
	if got := fake.sent(); fmt.Sprint(got) != fmt.Sprint(wantSent) {
		t.Errorf("requests sent %v, want %v", got, wantSent)
	}
	for _, r := range fake.requests {
		if r.GetFilter() != "capabilities.output:image" || r.GetView() != pb.ModelView_MODEL_VIEW_BASIC {
			t.Errorf("request %v: filter or view lost", r)
		}
	}
}

func TestWatchModelsCutBeforeItsMarkerResumesFromTheVersionsItGot(t *testing.T) {
	fake, c := serveScript(t,
		scriptedStream{[]*pb.WatchModelsResponse{event(initial, "a", v1, "", false), event(initial, "b", v1, "", false)},
			codes.Unavailable},
		scriptedStream{[]*pb.WatchModelsResponse{event(added, "c", v1, "", false), event(marker, "", "", "t1", false)}, held})
	w := client.NewModelWatch(c, &pb.WatchModelsRequest{})
	w.InitialBackoff = time.Millisecond
	done := errors.New("done")
	err := w.Run(context10s(t), func(e *pb.WatchModelsResponse) error {
		if e.GetType() == marker {
			return done
		}
		return nil
	})
	if err != done {
		t.Fatalf("Run: %v, want fn's error", err)
	}
	select {
	case <-fake.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("returning did not cancel the stream")
	}
	wantSent := [][2]interface{}{{"", map[string]string{}}, {"", map[string]string{"a": v1, "b": v1}}}
	if got := fake.sent(); fmt.Sprint(got) != fmt.Sprint(wantSent) {
		t.Errorf("requests sent %v, want %v", got, wantSent)
	}
	if got, want := w.KnownVersions(), map[string]string{"a": v1, "b": v1, "c": v1}; !reflect.DeepEqual(got, want) {
		t.Errorf("KnownVersions %v, want %v", got, want)
	}
	if w.ResumeToken() != "t1" {
		t.Errorf("ResumeToken %q, want t1", w.ResumeToken())
	}
}

func TestWatchModelsStartsFromTheCallersVersionsAndAResyncReplacesThem(t *testing.T) {
	fake, c := serveScript(t,
		scriptedStream{[]*pb.WatchModelsResponse{event(changed, "a", v2, "", false), event(marker, "", "", "t1", false)},
			codes.Unavailable},
		scriptedStream{[]*pb.WatchModelsResponse{event(initial, "x", v1, "", true), event(marker, "", "", "t2", true)},
			codes.Unavailable},
		// A resync of no models at all: its marker alone.
		scriptedStream{[]*pb.WatchModelsResponse{event(marker, "", "", "t3", true)}, codes.OK})
	held := map[string]string{"a": v1, "b": v1}
	w := client.NewModelWatch(c, &pb.WatchModelsRequest{ResumeToken: "t0", KnownVersions: held})
	w.InitialBackoff = time.Millisecond
	var after []string
	err := w.Run(context10s(t), func(e *pb.WatchModelsResponse) error {
		after = append(after, fmt.Sprint(e.GetType(), w.KnownVersions()))
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v, want nil when the server ends the stream", err)
	}
	want := []string{
		fmt.Sprint(changed, map[string]string{"a": v2, "b": v1}),
		fmt.Sprint(marker, map[string]string{"a": v2, "b": v1}),
		fmt.Sprint(initial, map[string]string{"x": v1}),
		fmt.Sprint(marker, map[string]string{"x": v1}),
		fmt.Sprint(marker, map[string]string{}),
	}
	if !reflect.DeepEqual(after, want) {
		t.Errorf("versions after each event:\n%s\nwant:\n%s", strings.Join(after, "\n"), strings.Join(want, "\n"))
	}
	wantSent := [][2]interface{}{
		{"t0", map[string]string{"a": v1, "b": v1}},
		{"t1", map[string]string{"a": v2, "b": v1}},
		{"t2", map[string]string{"x": v1}},
	}
	if got := fake.sent(); fmt.Sprint(got) != fmt.Sprint(wantSent) {
		t.Errorf("requests sent %v, want %v", got, wantSent)
	}
	if !reflect.DeepEqual(held, map[string]string{"a": v1, "b": v1}) {
		t.Errorf("the caller's map was changed: %v", held)
	}
}

func TestWatchModelsEndsWithItsContext(t *testing.T) {
	fake, c := serveScript(t, scriptedStream{[]*pb.WatchModelsResponse{event(marker, "", "", "t1", false)}, held})
	ctx, cancel := context.WithCancel(context.Background())
	err := client.WatchModels(ctx, c, &pb.WatchModelsRequest{}, func(*pb.WatchModelsResponse) error {
		cancel()
		return nil
	})
	if err != context.Canceled {
		t.Errorf("WatchModels: %v, want context.Canceled", err)
	}
	select {
	case <-fake.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream was not cancelled")
	}
}

// Against the real catalog-server of TestMain.
func TestWatchModelsFromTheVersionsOfAnEarlierWatchGetsOnlyTheMarker(t *testing.T) {
	first := client.NewModelWatch(catalog, &pb.WatchModelsRequest{Filter: imageModels})
	var initialIDs []string
	stop := errors.New("marker")
	err := first.Run(context10s(t), func(e *pb.WatchModelsResponse) error {
		switch e.GetType() {
		case initial:
			initialIDs = append(initialIDs, e.GetModelId())
		case marker:
			return stop
		default:
			t.Errorf("unexpected %v before the marker", e)
		}
		return nil
	})
	if err != stop {
		t.Fatalf("first watch: %v", err)
	}
	var want []string
	for _, m := range fullListing(t) {
		if hasImageOutput(m) {
			want = append(want, m.GetId())
		}
	}
	held := first.KnownVersions()
	if strings.Join(initialIDs, " ") != strings.Join(want, " ") || len(held) != len(want) {
		t.Fatalf("INITIAL events of %v (versions %v), want the image models %v", initialIDs, held, want)
	}

	// Without a token (as on another replica): the versions alone say nothing differs.
	var events []*pb.WatchModelsResponse
	err = client.WatchModels(context10s(t), catalog, &pb.WatchModelsRequest{Filter: imageModels, KnownVersions: held},
		func(e *pb.WatchModelsResponse) error {
			events = append(events, e)
			if e.GetType() == marker {
				return stop
			}
			return nil
		})
	if err != stop || len(events) != 1 || events[0].GetResync() || events[0].GetResumeToken() == "" {
		t.Fatalf("from the versions held: %v %v, want the marker alone, with a token, without resync", err, events)
	}

	// A version the client does not hold (well formed) is CHANGED, with the model whole.
	stale := first.KnownVersions()
	stale[want[0]] = "0000000000000000"
	events = nil
	err = client.WatchModels(context10s(t), catalog, &pb.WatchModelsRequest{Filter: imageModels, KnownVersions: stale},
		func(e *pb.WatchModelsResponse) error {
			events = append(events, e)
			if e.GetType() == marker {
				return stop
			}
			return nil
		})
	if err != stop || len(events) != 2 || events[0].GetType() != changed || events[0].GetModelId() != want[0] ||
		events[0].GetModelVersion() != held[want[0]] {
		t.Fatalf("from a stale version: %v %v, want CHANGED %s (version %s), then the marker", err, events, want[0], held[want[0]])
	}
}

func TestWatchModelsNamesBadInput(t *testing.T) {
	none := func(*pb.WatchModelsResponse) error { return nil }
	err := client.WatchModels(context10s(t), catalog, &pb.WatchModelsRequest{Filter: imageModels + " AND ("}, none)
	wantCode(t, "a filter that does not parse", err, codes.InvalidArgument, "filter: ")
	err = client.WatchModels(context10s(t), catalog,
		&pb.WatchModelsRequest{KnownVersions: map[string]string{"flux-2-dev": "v1"}}, none)
	wantCode(t, "a version that is not one", err, codes.InvalidArgument, `known_versions["flux-2-dev"] is "v1"`)
}
