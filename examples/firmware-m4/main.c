/* main.c: Fashion-MNIST on a Cortex-M4F.  The network is compiled ahead
 * of time by qgtc (fashion.o + fashion.h); this program classifies the
 * test images embedded at build time (test_images.h) and prints one line
 * per image over semihosting.  Exit status: the number of mistakes. */
#include <stdio.h>

#include "fashion.h"
#include "test_images.h"

static const char *const classes[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/* All working memory: the arena the header asks for, static. */
static unsigned char arena[FASHION_ARENA_SIZE] __attribute__((aligned(16)));
static float input[FASHION_INPUT_0_SIZE];
static float logits[FASHION_OUTPUT_0_SIZE];

int main(void)
{
	int wrong = 0;
	for (int i = 0; i < NUM_TEST_IMAGES; i++) {
		for (int k = 0; k < FASHION_INPUT_0_SIZE; k++)
			input[k] = (float)test_images[i][k] / 255.0f; /* as in training */
		const float *const in[1] = {input};
		float *const out[1] = {logits};
		if (fashion_run(in, out, arena) != 0) {
			printf("fashion_run failed\n");
			return 100;
		}
		int best = 0;
		for (int c = 1; c < FASHION_OUTPUT_0_SIZE; c++)
			if (logits[c] > logits[best])
				best = c;
		int label = test_labels[i];
		printf("image %d: predicted %d (%s), label %d (%s)%s\n", i, best, classes[best], label,
		       classes[label], best == label ? "" : "  <- wrong");
		wrong += best != label;
	}
	printf("%d of %d correct\n", NUM_TEST_IMAGES - wrong, NUM_TEST_IMAGES);
	return wrong;
}
