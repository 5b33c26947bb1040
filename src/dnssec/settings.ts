// A zone's DNSSEC settings as the signer takes them (validated from YAML by src/config).

export type DnssecState = 'pending' | 'active' | 'pending-disabled' | 'disabled' | 'deleted';
export const DNSSEC_STATES: readonly DnssecState[] = ['pending', 'active', 'pending-disabled', 'disabled', 'deleted'];

export type DenialMode = 'compact' | 'nsec3' | 'nsec';
export const DENIAL_MODES: readonly DenialMode[] = ['compact', 'nsec3', 'nsec'];

export type DnssecConfig =
  | {
      readonly mode: 'live';
      readonly state: DnssecState;
      readonly denial: DenialMode;
      /** Absolute key directory. */
      readonly keys: string;
      readonly validityDays: number | undefined;
    }
  | { readonly mode: 'presigned' };
