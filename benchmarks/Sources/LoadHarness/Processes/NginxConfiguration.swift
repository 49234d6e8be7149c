/// nginx as a plain reverse proxy in front of the same upstreams: loopback only, no logging, HTTP/1.1
/// keep-alive to the upstream, no response buffering (what one configures for SSE).
struct NginxConfiguration {
    /// (listen port, upstream port) pairs, one server block each.
    let routes: [(listen: Int, upstream: Int)]
    /// Working directory for the pid file, logs and temp paths.
    let directory: String
    let workerProcesses: Int
    let workerConnections: Int
    let fileLimit: Int

    var text: String {
        var servers = ""
        for (index, route) in routes.enumerated() {
            servers += """
                    upstream u\(index) {
                        server 127.0.0.1:\(route.upstream);
                        keepalive 512;
                        keepalive_requests 1000000;
                    }
                    server {
                        listen 127.0.0.1:\(route.listen) backlog=4096;
                        location / {
                            proxy_pass http://u\(index);
                            proxy_http_version 1.1;
                            proxy_set_header Connection "";
                            proxy_buffering off;
                            proxy_read_timeout 600s;
                        }
                    }

                """
        }
        return """
            daemon off;
            master_process on;
            worker_processes \(workerProcesses);
            worker_rlimit_nofile \(fileLimit);
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log warn;
            events {
                worker_connections \(workerConnections);
                multi_accept on;
            }
            http {
                access_log off;
                keepalive_requests 1000000;
                keepalive_timeout 600s;
                client_body_temp_path \(directory)/client_body;
                proxy_temp_path \(directory)/proxy;
                fastcgi_temp_path \(directory)/fastcgi;
                uwsgi_temp_path \(directory)/uwsgi;
                scgi_temp_path \(directory)/scgi;
            \(servers)
            }

            """
    }
}
