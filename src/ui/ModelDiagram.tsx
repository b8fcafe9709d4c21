import type { Architecture, Branches } from '../core/config/config.ts';

/** Encoders → HPA → macro / micro streams → head, recon beside; what is switched off is greyed out. */
export function ModelDiagram({ branches, arch }: { branches: Branches; arch: Architecture }) {
  if (arch !== 'mfmb') {
    const what =
      arch === 'concat'
        ? 'features of all three modalities, concatenated'
        : `${{ 'fc-t': 'text', 'fc-a': 'audio', 'fc-v': 'vision' }[arch]} features only`;
    return (
      <div className="diagram-note" data-testid="model-diagram">
        Baseline: a small fully connected network on the {what} (Table 2). Branch toggles apply to MFMB-Net only.
      </div>
    );
  }
  const cls = (on: boolean) => (on ? 'd-box' : 'd-box d-off');
  const edge = (on: boolean) => (on ? 'd-edge' : 'd-edge d-edge-off');
  return (
    <svg className="diagram" viewBox="0 0 440 170" role="img" aria-label="Model diagram" data-testid="model-diagram">
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 8 8"
          refX="7"
          refY="4"
          markerWidth="6"
          markerHeight="6"
          orient="auto-start-reverse"
        >
          <path d="M0,0 L8,4 L0,8 z" className="d-arrow" />
        </marker>
      </defs>
      {/* inputs */}
      {['text', 'audio', 'vision'].map((m, i) => (
        <g key={m}>
          <rect x={4} y={22 + i * 30} width={48} height={22} rx={5} className="d-input" />
          <text x={28} y={37 + i * 30} className="d-text" textAnchor="middle">
            {m}
          </text>
          <path d={`M52,${33 + i * 30} L74,${33 + i * 30}`} className="d-edge" markerEnd="url(#arrow)" />
        </g>
      ))}
      <rect x={76} y={18} width={58} height={90} rx={6} className="d-box" />
      <text x={105} y={58} className="d-text" textAnchor="middle">
        Encoders
      </text>
      <text x={105} y={72} className="d-sub" textAnchor="middle">
        eq. 1
      </text>
      <path d="M134,63 L156,63" className="d-edge" markerEnd="url(#arrow)" />
      <rect x={158} y={18} width={58} height={90} rx={6} className="d-box" />
      <text x={187} y={58} className="d-text" textAnchor="middle">
        HPA
      </text>
      <text x={187} y={72} className="d-sub" textAnchor="middle">
        eq. 2
      </text>

      {/* streams */}
      <path d="M216,45 L250,30" className={edge(branches.macro)} markerEnd="url(#arrow)" />
      <path d="M216,80 L250,96" className={edge(branches.micro)} markerEnd="url(#arrow)" />
      <g data-on={branches.macro}>
        <rect x={252} y={12} width={96} height={36} rx={6} className={cls(branches.macro)} />
        <text x={300} y={28} className="d-text" textAnchor="middle">
          Macro (F-1)
        </text>
        <text x={300} y={41} className="d-sub" textAnchor="middle">
          hub tokens
        </text>
      </g>
      <g data-on={branches.micro}>
        <rect x={252} y={78} width={96} height={36} rx={6} className={cls(branches.micro)} />
        <text x={300} y={94} className="d-text" textAnchor="middle">
          Micro (F-2)
        </text>
        <text x={300} y={107} className="d-sub" textAnchor="middle">
          local fusion
        </text>
      </g>
      <path d="M348,30 L372,55" className={edge(branches.macro)} markerEnd="url(#arrow)" />
      <path d="M348,96 L372,71" className={edge(branches.micro)} markerEnd="url(#arrow)" />
      <rect x={374} y={44} width={46} height={38} rx={6} className="d-box d-head" />
      <text x={397} y={61} className="d-text" textAnchor="middle">
        Head
      </text>
      <text x={397} y={74} className="d-sub" textAnchor="middle">
        ŷ
      </text>

      {/* reconstruction beside */}
      <path d="M187,108 L187,134" className={edge(branches.recon)} markerEnd="url(#arrow)" />
      <g data-on={branches.recon}>
        <rect x={132} y={136} width={150} height={28} rx={6} className={`${cls(branches.recon)} d-recon`} />
        <text x={207} y={154} className="d-text" textAnchor="middle">
          Reconstruction → L_gen
        </text>
      </g>
      <text x={292} y={154} className="d-sub">
        (training loss only)
      </text>
    </svg>
  );
}
