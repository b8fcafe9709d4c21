import type { AppState } from '../types.ts';
import type { GetState, SetState } from '../runtime.ts';

export type NoticeSlice = Pick<AppState, 'notice' | 'dismissNotice'>;

export function noticeSlice(set: SetState, _get: GetState): NoticeSlice {
  return {
    notice: null,
    dismissNotice: () => set({ notice: null }),
  };
}

export const errorNotice = (text: string): Pick<AppState, 'notice'> => ({ notice: { kind: 'error', text } });
export const infoNotice = (text: string): Pick<AppState, 'notice'> => ({ notice: { kind: 'info', text } });
