/*
 * bench_model.c: throughput of the model client against a local server
 * with a fixed latency (bench_server, built next to this program), next
 * to the limits measured in the same run:
 *   - chat, L = 50 ms, C = 64 and 256: rows/s vs the bound C/L and vs
 *     `curl --parallel --parallel-max C` sending the same requests;
 *   - embeddings, batch-size 32, C = 64: rows/s vs 32*C/L;
 *   - CPU time of the client thread at a paced 2,000 rows/s (getrusage).
 *
 *   build/bench/bench_model [seconds-per-scenario]
 */
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ai/model.h"

#define LATENCY_MS 50

static pid_t server_pid;
static int server_port;

static int start_server(void)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char path[4200];
    sl_snprintf(path, sizeof(path), "%s/bench_server", dirname(exe));
    int pfd[2];
    if (pipe(pfd))
        return -1;
    server_pid = fork();
    if (server_pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        char lat[16];
        sl_snprintf(lat, sizeof(lat), "%d", LATENCY_MS);
        execl(path, path, "--latency-ms", lat, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    char line[256];
    size_t len = 0;
    while (len < sizeof(line) - 1) {
        ssize_t r = read(pfd[0], line + len, 1);
        if (r <= 0)
            break;
        if (line[len++] == '\n')
            break;
    }
    line[len] = '\0';
    close(pfd[0]);
    const char *colon = strrchr(line, ':');
    if (!colon)
        return -1;
    server_port = (int)strtol(colon + 1, NULL, 10);
    return 0;
}

static double now_s(void)
{
    return (double)sl_mono_ns() / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static sl_model_client *make_client(const char *path, int conc, int batch)
{
    static sl_arena arena;
    static bool init;
    if (!init) {
        sl_arena_init(&arena, 4096, 0);
        init = true;
    }
    static sl_type arr;
    arr.id = SL_TYPE_ARRAY;
    arr.elem = sl_type_simple(SL_TYPE_FLOAT);
    const char *in_names[] = {"text"};
    const sl_type *in_types[] = {sl_type_simple(SL_TYPE_VARCHAR)};
    const char *out_names[] = {"out"};
    const sl_type *out_types[] = {batch > 1 ? &arr
                                            : sl_type_simple(SL_TYPE_VARCHAR)};
    char endpoint[256], c_s[16], b_s[16];
    sl_snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d%s",
                server_port, path);
    sl_snprintf(c_s, sizeof(c_s), "%d", conc);
    sl_snprintf(b_s, sizeof(b_s), "%d", batch);
    sl_option items[] = {{"provider", "openai", false},
                         {"endpoint", endpoint, false},
                         {"model", "bench", false},
                         {"max-concurrent-operations", c_s, false},
                         {"batch-size", b_s, false},
                         {"batch-linger", "2 ms", false}};
    sl_options opts = {6, items};
    sl_model_def def = {.name = "bench",
                        .input = sl_schema_new(&arena, 1, in_names, in_types),
                        .output =
                            sl_schema_new(&arena, 1, out_names, out_types),
                        .options = &opts};
    sl_err err;
    sl_err_clear(&err);
    sl_model_client *c = sl_model_client_new(&def, NULL, &err);
    if (!c)
        fprintf(stderr, "bench_model: %s\n", err.msg);
    return c;
}

/* Push n rows (or pace them at rate rows/s when rate > 0). */
static double drive(sl_model_client *c, long n, double rate, long *errors)
{
    double t0 = now_s();
    long next = 0, got = 0;
    *errors = 0;
    while (got < n) {
        double now = now_s();
        long allowed = rate > 0 ? (long)((now - t0) * rate) + 1 : n;
        while (next < n && next < allowed) {
            char text[64];
            int len = sl_snprintf(text, sizeof(text), "row %ld", next);
            sl_value v = {.kind = SL_V_TEXT, .len = (uint32_t)len, .u.s = text};
            sl_err err;
            if (sl_model_client_submit(c, (uint64_t)next, &v, &err) != SL_OK)
                break;
            next++;
        }
        sl_model_client_run(c, rate > 0 ? 1 : 5);
        sl_model_result r;
        while (sl_model_client_next_result(c, &r) == SL_OK) {
            if (r.status != SL_MODEL_ROW_OK)
                (*errors)++;
            got++;
        }
    }
    return now_s() - t0;
}

static double curl_parallel(int conc, long n)
{
    char body[] = "/tmp/sluice_bench_body.json";
    FILE *f = fopen(body, "w");
    if (!f)
        return -1;
    fputs("{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":"
          "\"row 1\"}]}",
          f);
    fclose(f);
    char url[256], pm[16], data[64];
    sl_snprintf(url, sizeof(url),
                "http://127.0.0.1:%d/v1/chat/completions?[1-%ld]", server_port,
                n);
    sl_snprintf(pm, sizeof(pm), "%d", conc);
    sl_snprintf(data, sizeof(data), "@%s", body);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        dup2(dn, 1);
        dup2(dn, 2);
        execlp("curl", "curl", "-s", "-Z", "--parallel-immediate",
               "--parallel-max", pm, "-H", "Content-Type: application/json",
               "--data-binary", data, url, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    double el = now_s() - t0;
    unlink(body);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? el : -1;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    if (start_server()) {
        fprintf(stderr, "bench_model: cannot start bench_server\n");
        return 1;
    }
    printf("model client benchmark: server latency L = %d ms, %.0f s per "
           "scenario\n\n",
           LATENCY_MS, secs);
    int concs[] = {64, 256};
    for (int i = 0; i < 2; i++) {
        int conc = concs[i];
        double bound = conc * 1000.0 / LATENCY_MS;
        long n = (long)(bound * secs);
        sl_model_client *c = make_client("/v1/chat/completions", conc, 1);
        if (!c)
            return 1;
        long errors;
        drive(c, conc * 2, 0, &errors); /* warm up connections */
        double cpu0 = cpu_s();
        double el = drive(c, n, 0, &errors);
        double cpu = cpu_s() - cpu0;
        sl_model_client_free(c);
        double rate = (double)n / el;
        double cel = curl_parallel(conc > 300 ? 300 : conc, n);
        double crate = cel > 0 ? (double)n / cel : 0;
        printf("chat C=%-3d rows=%-6ld %8.0f rows/s  bound C/L %6.0f "
               "(%5.1f%%)  curl --parallel %6.0f req/s (%5.1f%%)  client CPU "
               "%.0f%%  errors %ld\n",
               conc, n, rate, bound, 100.0 * rate / bound, crate,
               crate > 0 ? 100.0 * rate / crate : 0.0, 100.0 * cpu / el,
               errors);
    }
    {
        int conc = 64, batch = 32;
        double bound = batch * conc * 1000.0 / LATENCY_MS;
        long n = (long)(bound * secs);
        sl_model_client *c = make_client("/v1/embeddings", conc, batch);
        if (!c)
            return 1;
        long errors;
        drive(c, batch * conc, 0, &errors);
        double cpu0 = cpu_s();
        double el = drive(c, n, 0, &errors);
        double cpu = cpu_s() - cpu0;
        sl_model_metrics mt;
        sl_model_client_metrics(c, &mt);
        sl_model_client_free(c);
        double rate = (double)n / el;
        printf("embeddings C=%d batch=%d rows=%ld %8.0f rows/s  bound "
               "32*C/L %6.0f (%5.1f%%)  client CPU %.0f%%  errors %ld\n",
               conc, batch, n, rate, bound, 100.0 * rate / bound,
               100.0 * cpu / el, errors);
    }
    {
        double rate = 2000;
        long n = (long)(rate * secs);
        sl_model_client *c = make_client("/v1/chat/completions", 256, 1);
        if (!c)
            return 1;
        long errors;
        double cpu0 = cpu_s();
        double el = drive(c, n, rate, &errors);
        double cpu = cpu_s() - cpu0;
        sl_model_client_free(c);
        printf("paced chat at %.0f rows/s for %.1f s: client CPU %.3f s "
               "(%.1f%% of one core, %.1f us/row)  errors %ld\n",
               rate, el, cpu, 100.0 * cpu / el, 1e6 * cpu / (double)n, errors);
    }
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
    return 0;
}
