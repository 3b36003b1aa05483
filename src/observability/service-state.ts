import {BindingScope, injectable} from '@loopback/core';

/**
 * Whether the service takes work: false until the app has started, and
 * false again from the moment it begins to shut down, which `/ready`
 * reports before anything stops.
 */
@injectable({scope: BindingScope.SINGLETON})
export class ServiceState {
  private started = false;
  private draining = false;
  private refusing = false;

  markStarted(): void {
    this.started = true;
    this.draining = false;
    this.refusing = false;
  }

  markDraining(): void {
    this.draining = true;
  }

  /** From here on new requests are refused (after the drain delay). */
  markRefusing(): void {
    this.refusing = true;
  }

  /** Whether requests other than the probes are refused now. */
  get refusesRequests(): boolean {
    return this.refusing;
  }

  /** Why the service does not take work, or undefined when it does. */
  notServing(): string | undefined {
    if (this.draining) return 'shutting down';
    if (!this.started) return 'starting';
    return undefined;
  }
}
