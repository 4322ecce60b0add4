// Every traffic endpoint (pod, reserved identity, DNS name) is one :Endpoint node with a unique id.
CREATE CONSTRAINT endpoint_id IF NOT EXISTS FOR (e:Endpoint) REQUIRE e.id IS UNIQUE;
// One CALLS relationship per (source, destination, port, IP protocol, verdict): key = "src|dst|port|protocol|verdict".
CREATE CONSTRAINT calls_key IF NOT EXISTS FOR ()-[r:CALLS]-() REQUIRE r.key IS UNIQUE;
// Each collector keeps its last committed batch sequence here (exactly-once writes).
CREATE CONSTRAINT collector_id IF NOT EXISTS FOR (c:Collector) REQUIRE c.id IS UNIQUE;
