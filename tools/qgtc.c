/* qgtc.c: the driver.  STUB: being written. */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "qgtc: not implemented yet\n");
	return 1;
}
