/* classify.c: Fashion-MNIST classification with a network compiled ahead
 * of time by qgtc (fashion.o + fashion.h).  Reads an uncompressed IDX
 * image/label pair, classifies the first N images and prints each
 * prediction and the accuracy.  Runs on a Raspberry Pi 4 (aarch64 Linux)
 * or anywhere else the object was compiled for (here: the host, through
 * the CMake helper qgtc_add_model).
 * usage: classify IMAGES.idx LABELS.idx [N]
 * Exit status: 0, or 1 on a read error. */
#include <stdio.h>
#include <stdlib.h>

#include "fashion.h"

static unsigned long be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

static unsigned char arena[FASHION_ARENA_SIZE] __attribute__((aligned(16)));

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: classify IMAGES.idx LABELS.idx [N]\n");
		return 1;
	}
	FILE *fi = fopen(argv[1], "rb"), *fl = fopen(argv[2], "rb");
	unsigned char hi[16], hl[8];
	if (!fi || !fl || fread(hi, 1, 16, fi) != 16 || fread(hl, 1, 8, fl) != 8 ||
	    be32(hi) != 0x803 || be32(hl) != 0x801 || be32(hi + 8) * be32(hi + 12) != FASHION_INPUT_0_SIZE) {
		fprintf(stderr, "classify: %s / %s is not a 28x28 IDX image/label pair\n", argv[1], argv[2]);
		return 1;
	}
	long n = argc > 3 ? strtol(argv[3], NULL, 10) : (long)be32(hi + 4);
	if (n < 1 || (unsigned long)n > be32(hi + 4))
		n = (long)be32(hi + 4);
	long correct = 0;
	for (long i = 0; i < n; i++) {
		unsigned char px[FASHION_INPUT_0_SIZE];
		float x[FASHION_INPUT_0_SIZE], logits[FASHION_OUTPUT_0_SIZE];
		int label = fgetc(fl);
		if (fread(px, 1, sizeof px, fi) != sizeof px || label == EOF) {
			fprintf(stderr, "classify: short file at image %ld\n", i);
			return 1;
		}
		for (int k = 0; k < FASHION_INPUT_0_SIZE; k++)
			x[k] = (float)px[k] / 255.0f; /* as in training */
		const float *const in[1] = {x};
		float *const out[1] = {logits};
		fashion_run(in, out, arena);
		int best = 0;
		for (int c = 1; c < FASHION_OUTPUT_0_SIZE; c++)
			if (logits[c] > logits[best])
				best = c;
		correct += best == label;
		if (i < 10)
			printf("image %ld: predicted %d, label %d\n", i, best, label);
	}
	printf("accuracy: %ld/%ld = %.2f%%\n", correct, n, 100.0 * (double)correct / (double)n);
	return 0;
}
