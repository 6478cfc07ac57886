/**
 * One run's event stream for the dashboard: events go in (from the run itself, or from its
 * events.jsonl followed by another process), the state is kept, and every open page hears each
 * event as it comes.
 */
import { DashboardState, type DashboardEvent } from './state.js';

export class DashboardHub {
  readonly state = new DashboardState();
  private readonly listeners = new Set<(e: DashboardEvent) => void>();

  publish(e: DashboardEvent): void {
    this.state.apply(e);
    for (const l of this.listeners) l(e);
  }

  /** Returns unsubscribe. */
  subscribe(listener: (e: DashboardEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
