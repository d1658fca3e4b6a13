/* startup.c: reset and fault handling for Cortex-M on QEMU's mps2 boards
 * (mps2-an385 for Cortex-M3 and Armv6-M code, mps2-an386 for Cortex-M4,
 * mps2-an500 for Cortex-M7).  The vector table sits at address 0; the
 * reset handler turns the FPU on where there is one (newlib's rdimon crt0
 * does not) and enters crt0's _start; every fault exits QEMU through
 * semihosting with a non-zero status instead of locking up. */
#include <stdint.h>

extern void _start(void);
extern uint32_t __stack;

void rt_reset(void) __attribute__((naked, noreturn));
void rt_fault(void) __attribute__((naked, noreturn));

/* CPACR (0xE000ED88) bits 20-23: full access to CP10/CP11 (the FPU);
 * without one (Cortex-M0/M3, built for it) straight to _start. */
void rt_reset(void)
{
#if defined(__ARM_FP)
	__asm volatile("ldr r0, =0xE000ED88\n\t"
	               "ldr r1, [r0]\n\t"
	               "orr r1, r1, #(0xF << 20)\n\t"
	               "str r1, [r0]\n\t"
	               "dsb\n\t"
	               "isb\n\t"
	               "b _start\n\t");
#else
	__asm volatile("b _start\n\t");
#endif
}

/* SYS_EXIT (0x18) with ADP_Stopped_RunTimeErrorUnknown (0x20023): QEMU
 * exits with status 1. */
void rt_fault(void)
{
	__asm volatile("movs r0, #0x18\n\t"
	               "ldr r1, =0x20023\n\t"
	               "bkpt 0xab\n\t"
	               "b .\n\t");
}

__attribute__((section(".vectors"), used)) void *const rt_vectors[16] = {
	&__stack,          /* initial SP */
	(void *)rt_reset,  /* reset */
	(void *)rt_fault,  /* NMI */
	(void *)rt_fault,  /* HardFault */
	(void *)rt_fault,  /* MemManage */
	(void *)rt_fault,  /* BusFault */
	(void *)rt_fault,  /* UsageFault */
	0, 0, 0, 0,
	(void *)rt_fault,  /* SVCall */
	(void *)rt_fault,  /* DebugMonitor */
	0,
	(void *)rt_fault,  /* PendSV */
	(void *)rt_fault,  /* SysTick */
};
