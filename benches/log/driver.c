/*
 * Benchmark driver: libapparmor's parse_record() over every line of a log file.
 *
 * Build: cc -O2 -o driver driver.c $(pkg-config --cflags --libs libapparmor)
 * Usage: driver FILE   -> prints lines, AppArmor events (not INVALID) and lines/s.
 *
 * This is the baseline for benches/log/run.sh: it does what any libapparmor-based tool must
 * do per line (parse, inspect the event type, free), with no grouping.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <aalogparse/aalogparse.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lines = 0, events = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((len = getline(&line, &cap, f)) != -1) {
		lines++;
		aa_log_record *rec = parse_record(line);
		if (rec) {
			if (rec->event != AA_RECORD_INVALID)
				events++;
			free_record(rec);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("libapparmor: %lu lines, %lu events, %.3f s, %.0f lines/s\n",
	       lines, events, secs, lines / secs);
	free(line);
	fclose(f);
	return 0;
}
