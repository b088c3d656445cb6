/**
 * The protobuf messages the OTLP receivers answer with: ExportMetricsServiceResponse
 * (partial success), google.rpc.Status and RetryInfo. Requests are read by
 * otlp-wire-reader.ts; the request messages stay in the schema as the reference (and for
 * tests that encode edge cases), with the public opentelemetry-proto field numbers.
 */
import protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto3";
package fabricscope.otlp;

message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }

message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }

message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data {
    Gauge gauge = 5;
    Sum sum = 7;
    Histogram histogram = 9;
    OtherPoints exponential_histogram = 10;
    OtherPoints summary = 11;
  }
  repeated KeyValue metadata = 12;
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  uint32 flags = 10;
  optional double min = 11;
  optional double max = 12;
}
// Exponential histograms and summaries: only their data points are counted, so their content stays opaque.
message OtherPoints { repeated bytes data_points = 1; }

message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
  uint32 flags = 8;
}

message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }

// google.rpc.Status, the OTLP/HTTP error body and gRPC's grpc-status-details-bin.
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
message Any { string type_url = 1; bytes value = 2; }
message Duration { int64 seconds = 1; int32 nanos = 2; }
// google.rpc.RetryInfo: OTLP exporters retry RESOURCE_EXHAUSTED only when it is present.
message RetryInfo { Duration retry_delay = 1; }
`;

const root = protobuf.parse(SCHEMA).root;
/** The request schema, for tests that hand-encode edge cases. */
export const otlpSchema = root;
const Response = root.lookupType('fabricscope.otlp.ExportMetricsServiceResponse');
const Status = root.lookupType('fabricscope.otlp.Status');
const RetryInfo = root.lookupType('fabricscope.otlp.RetryInfo');

export function encodeMetricsResponse(partial?: { rejectedDataPoints: number; errorMessage: string }): Uint8Array {
  const payload = partial ? { partialSuccess: { rejectedDataPoints: partial.rejectedDataPoints, errorMessage: partial.errorMessage } } : {};
  return Response.encode(Response.fromObject(payload)).finish();
}

export function encodeStatus(code: number, message: string): Uint8Array {
  return Status.encode(Status.fromObject({ code, message })).finish();
}

/** A google.rpc.Status carrying google.rpc.RetryInfo, telling the sender when to retry. */
export function encodeRetryStatus(code: number, message: string, retryDelayS: number): Uint8Array {
  const retry = RetryInfo.encode(RetryInfo.fromObject({ retryDelay: { seconds: Math.max(0, Math.ceil(retryDelayS)) } })).finish();
  return Status.encode(
    Status.fromObject({ code, message, details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value: retry }] }),
  ).finish();
}
